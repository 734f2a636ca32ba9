import {
  applyBatch,
  createState,
  expiresAt,
  setAnchor,
  StateSerializer,
  type BarRow,
  type BatchResult,
  type EngineOptions,
  type EngineState,
  type EngineTrade,
  type StatePieces,
} from '@cvd/engine';
import { MissingIds } from './missing-ids.js';

const rowKey = (r: BarRow): string => `${r.ts}|${r.market}|${r.symbol}`;

/**
 * Everything the aggregator holds for one trades partition: the engine state, the next offset
 * it expects, the bar rows not yet written, the partition's event-time watermark and its
 * checkpoint bookkeeping. It can always be rebuilt from a snapshot plus a replay of the
 * partition. Only its own methods change its fields.
 */
export class PartitionWorker {
  /** Bar rows changed since the last flush, latest version per (ts, market, symbol). */
  private pending = new Map<string, BarRow>();
  #nextOffset: bigint;
  #eventWatermarkMs: number;
  /** Wall time of the last record (for the idle watermark). */
  private lastRecordWallMs: number;
  /** Offset covered by the last written snapshot. */
  #snapshotOffset: bigint;
  private lastSnapshotWallMs: number;
  /** Set by `requestSnapshot`: the next check finds a snapshot due whatever the interval. */
  private snapshotRequested = false;
  /** The partition's high watermark as last seen; the idle watermark waits until we reach it. */
  private knownHighWatermark = 0n;
  private readonly missing = new MissingIds();
  /** Keeps every bar's serialised form: a snapshot re-serialises only what changed since the last one. */
  private readonly serializer = new StateSerializer();

  constructor(
    readonly partition: number,
    readonly state: EngineState,
    /** Next offset to process. */
    nextOffset: bigint,
    nowMs: number,
  ) {
    this.#nextOffset = nextOffset;
    this.#eventWatermarkMs = state.watermarkMs;
    this.lastRecordWallMs = nowMs;
    this.#snapshotOffset = nextOffset;
    this.lastSnapshotWallMs = nowMs;
  }

  static fresh(partition: number, options: Partial<EngineOptions>, startOffset: bigint, nowMs: number): PartitionWorker {
    return new PartitionWorker(partition, createState(options), startOffset, nowMs);
  }

  /** Next offset to process: the state reflects exactly the records below it. */
  get nextOffset(): bigint {
    return this.#nextOffset;
  }

  /** Highest trade time seen on this partition (event time). */
  get eventWatermarkMs(): number {
    return this.#eventWatermarkMs;
  }

  /** Offset covered by the last written snapshot. */
  get snapshotOffset(): bigint {
    return this.#snapshotOffset;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Records the partition's high watermark from a fetch (see {@link advanceIdle}). */
  observeHighWatermark(high: bigint): void {
    this.knownHighWatermark = high;
  }

  /** Applies decoded trades (in partition order) whose records end just below `nextOffset`. */
  apply(trades: readonly EngineTrade[], nextOffset: bigint, nowMs: number): BatchResult {
    let maxT = this.#eventWatermarkMs;
    for (const t of trades) if (Number.isFinite(t.tradeTimeMs) && t.tradeTimeMs > maxT) maxT = t.tradeTimeMs;
    this.#eventWatermarkMs = maxT;
    const result = applyBatch(this.state, trades, Number.isFinite(maxT) ? maxT : 0);
    this.keep(result.upserts);
    this.#nextOffset = nextOffset;
    this.lastRecordWallMs = nowMs;
    return result;
  }

  /**
   * Sets a CVD anchor (`cvd` from minute `fromMs` on); bars it re-links become pending. Throws
   * `EngineError('invalid-options')` on a value the engine cannot take. Returns the re-linked rows.
   */
  setAnchor(key: string, cvd: string, fromMs: number): readonly BarRow[] {
    const rows = setAnchor(this.state, key, cvd, fromMs);
    this.keep(rows);
    return rows;
  }

  /**
   * A quiet partition's watermark advances by the wall time elapsed since its last record —
   * never to the absolute wall clock, so replays of old data are not all "late" (DESIGN §5.6).
   */
  advanceIdle(nowMs: number, idleAfterMs: number): BatchResult | undefined {
    if (!Number.isFinite(this.#eventWatermarkMs)) return undefined;
    // A partition that is behind is not idle: its records are still to be read (after a
    // restart or rebalance, or while Kafka is slow), and time must not outrun them.
    if (this.#nextOffset < this.knownHighWatermark) return undefined;
    const idle = nowMs - this.lastRecordWallMs;
    if (idle < idleAfterMs) return undefined;
    const result = applyBatch(this.state, [], this.#eventWatermarkMs + idle);
    this.keep(result.upserts);
    return result;
  }

  private keep(rows: readonly BarRow[]): void {
    for (const r of rows) this.pending.set(rowKey(r), r);
    // Each batch serialises its own changed bars for the next snapshot, so a snapshot's capture
    // is left with comparisons only (no long synchronous step every snapshot interval).
    this.serializer.prepare(this.state, rows);
  }

  /**
   * Hands over the pending rows (the caller writes them or, on failure, gives them back). With
   * `forming: false` only the final rows: forming ones stay pending for a later write.
   */
  takePending(forming = true): BarRow[] {
    if (!forming) {
      const rows: BarRow[] = [];
      for (const [k, r] of this.pending) {
        if (!r.final) continue;
        rows.push(r);
        this.pending.delete(k);
      }
      return rows;
    }
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

  /** Makes the next {@link snapshotDue} true if there is anything new to snapshot (a clean stop). */
  requestSnapshot(): void {
    this.snapshotRequested = true;
  }

  /** Whether the state is to be snapshotted now: progress since the last one, and its interval passed (or one was requested). */
  snapshotDue(nowMs: number, intervalMs: number): boolean {
    if (this.#nextOffset <= this.#snapshotOffset) return false;
    return this.snapshotRequested || nowMs - this.lastSnapshotWallMs >= intervalMs;
  }

  /**
   * The state as of now (the records below `nextOffset`), as pieces that later changes of the
   * state do not touch: capture them synchronously with `nextOffset`, build the bytes with
   * `concatPieces` when writing. Costs what changed since the previous capture.
   */
  captureSnapshot(): { offset: bigint; pieces: StatePieces } {
    return { offset: this.#nextOffset, pieces: this.serializer.pieces(this.state) };
  }

  /** A snapshot covering the records below `offset` was written at `nowMs`. */
  markCheckpointed(offset: bigint, nowMs: number): void {
    this.#snapshotOffset = offset;
    this.lastSnapshotWallMs = nowMs;
    this.snapshotRequested = false;
  }

  /** Rows QuestDB acknowledged: they update the missing-ids count, which forgets bars past the horizon. */
  noteWritten(rows: readonly BarRow[]): void {
    this.missing.record(rows);
    const { options, watermarkMs } = this.state;
    this.missing.forget((ts) => expiresAt(options, ts) <= watermarkMs);
  }

  /** Adds the missing agg ids of this partition's revisable written bars, per market, into `sums`. */
  addMissingTo(sums: Record<string, number>): void {
    this.missing.addTo(sums);
  }

  /** Bars with missing ids remembered for the gauge (bounded by the horizon). */
  get missingBars(): number {
    return this.missing.size;
  }
}
