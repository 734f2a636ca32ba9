import { applyBatch, createState, type BarRow, type BatchResult, type EngineOptions, type EngineState, type EngineTrade } from '@cvd/engine';

const rowKey = (r: BarRow): string => `${r.ts}|${r.market}|${r.symbol}`;

/**
 * Everything the aggregator holds for one trades partition: the engine state, the next offset
 * it expects, the bar rows not yet written, and the partition's event-time watermark. It can
 * always be rebuilt from a snapshot plus a replay of the partition.
 */
export class PartitionWorker {
  /** Bar rows changed since the last flush, latest version per (ts, market, symbol). */
  private pending = new Map<string, BarRow>();
  /** Highest trade time seen on this partition (event time). */
  eventWatermarkMs: number;
  /** Wall time of the last record (for the idle watermark). */
  lastRecordWallMs: number;
  /** Offset covered by the last written snapshot. */
  snapshotOffset: bigint;
  lastSnapshotWallMs: number;
  /** The partition's high watermark as last seen; the idle watermark waits until we reach it. */
  knownHighWatermark = 0n;

  constructor(
    readonly partition: number,
    readonly state: EngineState,
    /** Next offset to process. */
    public nextOffset: bigint,
    nowMs: number,
  ) {
    this.eventWatermarkMs = state.watermarkMs;
    this.lastRecordWallMs = nowMs;
    this.snapshotOffset = nextOffset;
    this.lastSnapshotWallMs = nowMs;
  }

  static fresh(partition: number, options: Partial<EngineOptions>, startOffset: bigint, nowMs: number): PartitionWorker {
    return new PartitionWorker(partition, createState(options), startOffset, nowMs);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Applies decoded trades (in partition order) whose records end just below `nextOffset`. */
  apply(trades: readonly EngineTrade[], nextOffset: bigint, nowMs: number): BatchResult {
    let maxT = this.eventWatermarkMs;
    for (const t of trades) if (Number.isFinite(t.tradeTimeMs) && t.tradeTimeMs > maxT) maxT = t.tradeTimeMs;
    this.eventWatermarkMs = maxT;
    const result = applyBatch(this.state, trades, Number.isFinite(maxT) ? maxT : 0);
    this.keep(result.upserts);
    this.nextOffset = nextOffset;
    this.lastRecordWallMs = nowMs;
    return result;
  }

  /**
   * A quiet partition's watermark advances by the wall time elapsed since its last record —
   * never to the absolute wall clock, so replays of old data are not all "late" (DESIGN §5.6).
   */
  advanceIdle(nowMs: number, idleAfterMs: number): BatchResult | undefined {
    if (!Number.isFinite(this.eventWatermarkMs)) return undefined;
    // A partition that is behind is not idle: its records are still to be read (after a
    // restart or rebalance, or while Kafka is slow), and time must not outrun them.
    if (this.nextOffset < this.knownHighWatermark) return undefined;
    const idle = nowMs - this.lastRecordWallMs;
    if (idle < idleAfterMs) return undefined;
    const result = applyBatch(this.state, [], this.eventWatermarkMs + idle);
    this.keep(result.upserts);
    return result;
  }

  private keep(rows: readonly BarRow[]): void {
    for (const r of rows) this.pending.set(rowKey(r), r);
  }

  /** Hands over the pending rows (the caller writes them or, on failure, gives them back). */
  takePending(): BarRow[] {
    const rows = [...this.pending.values()];
    this.pending = new Map();
    return rows;
  }

  /** Puts rows back after a failed write, unless a newer version arrived meanwhile. */
  restorePending(rows: readonly BarRow[]): void {
    for (const r of rows) {
      const k = rowKey(r);
      if (!this.pending.has(k)) this.pending.set(k, r);
    }
  }
}
