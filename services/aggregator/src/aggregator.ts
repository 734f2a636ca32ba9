import { RateLimitedLog, type Logger } from '@cvd/common';
import { concatPieces, minuteOf, piecesByteLength, type BarRow, type BatchResult, type EngineOptions, type EngineTrade, type StatePieces } from '@cvd/engine';
import {
  BatchingProducer,
  deadLetterOnRefusal,
  PartitionedConsumer,
  topicOffsets,
  type ConsumedRecord,
  type DecodedBatch,
  type FlushWork,
  type Kafka,
  type OutMessage,
} from '@cvd/kafka';
import type { BarWriter } from '@cvd/questdb';
import { AnchorFeed, type Anchor } from './anchors.js';
import { BarPublisher } from './bar-publisher.js';
import { deadLetterMessage } from './dead-letters.js';
import { decodeRecord, type Decoded } from './decode.js';
import type { AggregatorMetrics } from './metrics.js';
import { TooOldTrades } from './too-old.js';
import { PartitionWorker } from './partition-worker.js';
import { SnapshotStore, type Snapshot } from './snapshots.js';

export interface AggregatorCoreOptions {
  kafka: Kafka;
  writer: BarWriter;
  logger: Logger;
  metrics: AggregatorMetrics;
  /** `symbols`: the topic whose `anchorCvd` values anchor the CVD; without it no anchors are followed. */
  topics: { trades: string; deadLetter: string; state: string; symbols?: string };
  groupId: string;
  engine: Partial<EngineOptions>;
  flushIntervalMs: number;
  /**
   * Forming bars are written to QuestDB at most this often (final bars at every flush; a
   * partition's forming bars also with each of its snapshots). @defaultValue 0 (every flush)
   */
  formingWriteIntervalMs?: number;
  /** The bar stream: publish changed bars to `topic` (cvd.bars.v1), a symbol's forming bars at most every `intervalMs`. */
  barStream?: { topic: string; intervalMs: number };
  snapshotIntervalMs: number;
  idleAfterMs: number;
  maxPendingRows: number;
  /** @defaultValue 30000 */
  sessionTimeoutMs?: number;
  /** Dead-letter sends failing this long (retriable errors, no acknowledged send) are given up: `onFatal`. @defaultValue 180000 */
  kafkaSendGiveUpMs?: number;
  /** A failure the aggregator cannot recover from while running (the dead-letter producer gave up): exit non-zero. */
  onFatal?: (err: Error) => void;
  now?: () => number;
}

/** One fetched record and what decoding it gave. */
interface DecodedRecord {
  record: ConsumedRecord;
  decoded: Decoded;
  /** Ingest receipt times of its trades (only with the latency histogram on). */
  receivedAtMs: number[] | undefined;
}

/** A partition to snapshot after the flush's rows are acknowledged. */
interface DueSnapshot {
  partition: number;
  offset: bigint;
  worker: PartitionWorker;
  /** The state at `offset`, captured in `collect`; its bytes are built in `checkpoint`. */
  state: StatePieces;
  /** Wall time of the capture: the partition's snapshot clock restarts from it (the same instant as the forming-write clock). */
  capturedAtMs: number;
}

/** The rows of one flush, with the worker each came from (it counts the missing ids it wrote). */
type FlushOutput = { worker: PartitionWorker; rows: BarRow[] }[];

/**
 * The aggregator's business rules on top of the partitioned-consumer shell of `@cvd/kafka`.
 * Partition = unit of state: on every assignment a partition's state is restored from its
 * newest snapshot and the partition replayed from the snapshot's offset. Each flush writes the
 * pending final bar rows to QuestDB (forming ones at their own cadence and with every snapshot
 * of their partition; the shell retries until they are acknowledged), then — when due —
 * snapshots each partition; the shell then commits the snapshot's offset. A crash at any
 * point leaves a snapshot whose replay regenerates identical rows. Every changed bar is also
 * published, throttled per symbol, to the bar stream (`bar-publisher.ts`), never in the way
 * of the QuestDB writes or the commits.
 */
export class Aggregator {
  private readonly shell: PartitionedConsumer<PartitionWorker, DecodedRecord, FlushOutput, DueSnapshot>;
  private readonly snapshots: SnapshotStore;
  private readonly deadLetters: BatchingProducer;
  private readonly now: () => number;
  private readonly rl: RateLimitedLog;
  private readonly tooOld: TooOldTrades;
  private readonly anchors: AnchorFeed | undefined;
  private readonly bars: BarPublisher | undefined;
  /** The bytes of the snapshot being written (see `checkpoint`), grown as needed. */
  private snapshotScratch = Buffer.alloc(0);
  /** Wall time of the last flush that wrote every pending forming bar. */
  private lastFormingWriteMs: number;
  private stopped: Promise<void> | undefined;

  constructor(private readonly o: AggregatorCoreOptions) {
    this.now = o.now ?? Date.now;
    this.snapshots = new SnapshotStore(o.kafka, { stateTopic: o.topics.state, tradesTopic: o.topics.trades, groupId: o.groupId, logger: o.logger });
    const dlLogger = o.logger.child({ component: 'dead-letters' });
    this.deadLetters = new BatchingProducer(o.kafka, {
      logger: dlLogger,
      lingerMs: 20,
      ...(o.kafkaSendGiveUpMs === undefined ? {} : { giveUpAfterMs: o.kafkaSendGiveUpMs }),
      // A dead letter Kafka refuses is truncated once, then dropped (counted): never retried.
      onRejected: deadLetterOnRefusal({
        deadLetterTopic: o.topics.deadLetter,
        logger: dlLogger,
        count: (topic, reason, outcome) => o.metrics.producerRefused.inc({ topic, reason, outcome }),
      }),
      ...(o.onFatal ? { onGiveUp: o.onFatal } : {}),
    });
    this.rl = new RateLimitedLog(o.logger, { intervalMs: 10_000 });
    this.tooOld = new TooOldTrades(o.logger, o.metrics.tooOld);
    this.lastFormingWriteMs = this.now();
    this.bars = o.barStream
      ? new BarPublisher({
          kafka: o.kafka,
          topic: o.barStream.topic,
          intervalMs: o.barStream.intervalMs,
          logger: o.logger.child({ component: 'bar-stream' }),
          metrics: { published: o.metrics.barsPublished, failures: o.metrics.barPublishFailures, lag: o.metrics.barPublishLag },
        })
      : undefined;
    const symbols = o.topics.symbols;
    this.anchors = symbols
      ? new AnchorFeed(o.kafka, { topic: symbols, groupId: o.groupId, logger: o.logger, onAnchor: (a) => this.anchorOwned(a) })
      : undefined;
    this.shell = new PartitionedConsumer({
      kafka: o.kafka,
      topic: o.topics.trades,
      groupId: o.groupId,
      logger: o.logger,
      flushIntervalMs: o.flushIntervalMs,
      maxPending: o.maxPendingRows,
      sessionTimeoutMs: o.sessionTimeoutMs,
      now: this.now,
      handlers: {
        restore: (partitions) => this.restore(partitions),
        decode: (record) => this.decode(record),
        apply: (worker, batch) => this.apply(worker, batch),
        pending: () => this.pendingRows(),
        tick: (workers) => this.advanceIdle(workers),
        collect: (workers, { final }) => this.collect(workers, final),
        write: (output) => this.write(output),
        checkpoint: (due) => this.checkpoint(due),
      },
      hooks: {
        rebalance: () => o.metrics.rebalances.inc(),
        assigned: (partitions) => o.metrics.assigned.set(partitions.length),
        writeFailed: (err, retryInMs) => {
          o.metrics.writeFailures.inc();
          this.rl.error('questdb-write', { err, retryInMs }, 'QuestDB write failed; retrying (offsets stay uncommitted)');
        },
      },
    });
  }

  async start(): Promise<void> {
    await this.snapshots.connect();
    await this.deadLetters.connect();
    await this.bars?.connect();
    // Anchors first: every restore then applies each symbol's latest one.
    await this.anchors?.start();
    await this.shell.start();
  }

  private anchorOwned(anchor: Anchor): void {
    for (const w of this.shell.owned.values()) this.applyAnchor(w, anchor);
  }

  private applyAnchor(worker: PartitionWorker, a: Anchor): void {
    try {
      this.bars?.offer(worker.setAnchor(a.key, a.cvd, a.fromMs));
    } catch (err) {
      this.rl.error(`anchor:${a.key}`, { err, symbol: a.key, anchorCvd: a.cvd }, 'CVD anchor not applied');
    }
  }

  /** Every assignment: each partition from its newest snapshot, or from the oldest retained offset. */
  private async restore(partitions: readonly number[]): Promise<Map<number, PartitionWorker>> {
    const started = this.now();
    const offsets = await topicOffsets(this.o.kafka, this.o.topics.trades);
    const snaps = await this.snapshots.readMany([...partitions]);
    const out = new Map<number, PartitionWorker>();
    const now = this.now();
    for (const p of partitions) {
      const o = offsets.find((x) => x.partition === p);
      const low = BigInt(o?.low ?? '0');
      const worker = this.createWorker(p, snaps.get(p), low, now);
      worker.observeHighWatermark(BigInt(o?.high ?? '0'));
      // Synchronously up to the return: an anchor arriving later reaches the owned workers.
      for (const a of this.anchors?.all() ?? []) this.applyAnchor(worker, a);
      out.set(p, worker);
      this.o.metrics.restores.inc({ from: snaps.has(p) ? 'snapshot' : 'beginning' });
    }
    this.o.logger.info({ partitions, fromSnapshot: [...snaps.keys()], ms: this.now() - started }, 'partition state restored');
    return out;
  }

  private createWorker(partition: number, snapshot: Snapshot | undefined, low: bigint, now: number): PartitionWorker {
    if (!snapshot) return PartitionWorker.fresh(partition, this.o.engine, low, now);
    const hold = this.o.engine.holeHoldMs;
    if (hold !== undefined && snapshot.state.options.holeHoldMs !== hold) {
      // A snapshot from before the hole hold (version 1) or another setting: the hold only
      // times finality, never a value, so the configured one applies from here on.
      snapshot = { ...snapshot, state: { ...snapshot.state, options: Object.freeze({ ...snapshot.state.options, holeHoldMs: hold }) } };
    }
    if (snapshot.nextOffset >= low) return new PartitionWorker(partition, snapshot.state, snapshot.nextOffset, now);
    this.o.logger.error(
      { partition, snapshotOffset: snapshot.nextOffset.toString(), low: low.toString() },
      'snapshot is older than the retained trades; continuing from it (trades deleted by retention are lost to these bars)',
    );
    return new PartitionWorker(partition, snapshot.state, low, now);
  }

  private decode(record: ConsumedRecord): DecodedRecord {
    const receivedAtMs = this.o.metrics.ingestToApply ? [] : undefined;
    return { record, decoded: decodeRecord(record.value, receivedAtMs), receivedAtMs };
  }

  private apply(worker: PartitionWorker, batch: DecodedBatch<DecodedRecord>): void {
    const { topic, partition } = batch;
    worker.observeHighWatermark(batch.highWatermark);
    if (batch.records.length === 0) return;
    const trades: EngineTrade[] = [];
    const origin: ConsumedRecord[] = [];
    const dead: OutMessage[] = [];
    // Max ingest receipt time per symbol in this batch: the bar stream's `receivedAtMs`.
    const received = this.bars ? new ReceiptTimes() : undefined;
    for (const { record, decoded: d } of batch.records) {
      if (d.ok) {
        for (const t of d.trades) {
          trades.push(t);
          origin.push(record);
        }
        if (received) for (const t of d.trades) received.note(t.market, t.symbol, t.tradeTimeMs, t.receivedAtMs);
      } else {
        const offset = record.offset.toString();
        dead.push(this.deadLetter(record.key, record.value, d.reason, d.detail, topic, partition, offset));
        this.rl.warn(`decode:${d.reason}`, { partition, offset, reason: d.reason, detail: d.detail }, 'undecodable trade record dead-lettered');
      }
    }
    const records = Number(batch.nextOffset - worker.nextOffset);
    this.o.metrics.records.inc({ partition: String(partition) }, records);
    const result = worker.apply(trades, batch.nextOffset, this.now());
    if (received) this.bars?.offer(result.upserts, (row) => received.get(row.market, row.symbol, row.ts));
    const latency = this.o.metrics.ingestToApply;
    if (latency) {
      const appliedAt = Date.now();
      for (const r of batch.records) for (const t of r.receivedAtMs ?? []) latency.observe((appliedAt - t) / 1000);
    }
    this.account(result, (i) => origin[i], dead, topic, partition);
    this.tooOld.note(result.rejected, partition, worker.eventWatermarkMs);
    if (dead.length) this.deadLetters.enqueue(this.o.topics.deadLetter, dead);
    this.o.metrics.lag.set({ partition: String(partition) }, Math.max(0, Number(batch.highWatermark - batch.nextOffset)));
    this.o.metrics.pendingRows.set(this.pendingRows());
  }

  private account(result: BatchResult, origin: (i: number) => ConsumedRecord | undefined, dead: OutMessage[], topic: string, partition: number): void {
    const { stats } = result;
    const m = this.o.metrics;
    m.trades.inc(stats.applied);
    if (stats.duplicates) m.duplicates.inc(stats.duplicates);
    if (stats.lateRevisions) m.lateRevisions.inc(stats.lateRevisions);
    if (stats.lateBeyondHorizon) m.lateBeyondHorizon.inc(stats.lateBeyondHorizon);
    for (const r of result.rejected) {
      const o = origin(r.index);
      dead.push(this.deadLetter(o?.key ?? null, Buffer.from(JSON.stringify(r.trade)), r.reason, r.detail, topic, partition, o?.offset.toString() ?? '-1'));
      this.rl.warn(`reject:${r.reason}`, { partition, reason: r.reason, detail: r.detail }, 'trade rejected by the engine and dead-lettered');
    }
  }

  private deadLetter(key: Buffer | null, value: Buffer | null, reason: string, detail: string, topic: string, partition: number, offset: string): OutMessage {
    this.o.metrics.deadLetters.inc({ reason });
    return deadLetterMessage(key, value, reason, detail, { topic, partition, offset });
  }

  private pendingRows(): number {
    let n = 0;
    for (const w of this.shell.owned.values()) n += w.pendingCount;
    return n;
  }

  /** Timer: advance quiet partitions' watermarks (the shell then flushes what is pending). */
  private advanceIdle(workers: ReadonlyMap<number, PartitionWorker>): void {
    const now = this.now();
    for (const w of workers.values()) {
      const r = w.advanceIdle(now, this.o.idleAfterMs);
      if (!r) continue;
      this.bars?.offer(r.upserts);
      this.account(r, () => undefined, [], this.o.topics.trades, w.partition);
    }
  }

  /**
   * Captured in one synchronous step: the rows and the snapshots describe the same offsets.
   * Final rows are taken at every flush, forming rows only every `formingWriteIntervalMs` —
   * and always from a partition being snapshotted, so a snapshot at offset N is stored only
   * after every bar reflecting records below N is in QuestDB (a forming row left pending is
   * regenerated by the replay from the previous snapshot).
   *
   * One clock for all partitions: when any partition's snapshot is due, every partition with progress is snapshotted and every forming row written, in the
   * same QuestDB transaction. A bar table's cost is per transaction (each refreshes the views),
   * so snapshots never add transactions of their own: with the default 5 s for both, forming
   * rows reach QuestDB about 12 times a minute per symbol whatever the partition count.
   */
  private collect(workers: ReadonlyMap<number, PartitionWorker>, final: boolean): FlushWork<FlushOutput, DueSnapshot> {
    const now = this.now();
    const output: FlushOutput = [];
    const checkpoints: DueSnapshot[] = [];
    let snapshots = final;
    if (!snapshots) for (const w of workers.values()) if (w.snapshotDue(now, this.o.snapshotIntervalMs)) snapshots = true;
    const formingDue = snapshots || now - this.lastFormingWriteMs >= (this.o.formingWriteIntervalMs ?? 0) || this.pendingRows() >= this.o.maxPendingRows;
    if (formingDue) this.lastFormingWriteMs = now;
    for (const w of workers.values()) {
      // A clean stop snapshots every partition, so a restart replays nothing.
      if (final) w.requestSnapshot();
      // Any progress since its last snapshot: it joins this round.
      const snapshot = snapshots && w.snapshotDue(now, 0);
      const rows = w.takePending(formingDue);
      if (rows.length) output.push({ worker: w, rows });
      if (snapshot) {
        // Costs what changed since the partition's last snapshot; the bytes are built later.
        const { offset, pieces } = w.captureSnapshot();
        checkpoints.push({ partition: w.partition, offset, worker: w, state: pieces, capturedAtMs: now });
      }
    }
    return { output, checkpoints };
  }

  /** The sink: QuestDB upserts by (ts, market, symbol), so a retried write is harmless. */
  private async write(output: FlushOutput): Promise<void> {
    const rows = output.flatMap((o) => o.rows);
    if (rows.length) {
      const t0 = this.now();
      await this.o.writer.write(rows, this.now());
      this.o.metrics.flushSeconds.observe((this.now() - t0) / 1000);
      this.o.metrics.barsWritten.inc(rows.length);
      this.trackMissing(output);
    }
    this.o.metrics.pendingRows.set(this.pendingRows());
    await this.deadLetters.flush();
  }

  /** One partition at a time (the shell awaits each): a partition's bytes are one memcpy, not all partitions' at once. */
  private async checkpoint(due: DueSnapshot): Promise<void> {
    // One reused buffer: checkpoints run one at a time and `write` is done with the bytes once it settles.
    const size = piecesByteLength(due.state);
    if (this.snapshotScratch.length < size) this.snapshotScratch = Buffer.allocUnsafeSlow(Math.ceil(size * 1.25));
    const bytes = concatPieces(due.state, this.snapshotScratch);
    await this.snapshots.write(due.partition, due.offset, bytes);
    due.worker.markCheckpointed(due.offset, due.capturedAtMs);
    this.o.metrics.snapshots.inc();
    this.o.metrics.snapshotBytes.set({ partition: String(due.partition) }, bytes.length);
  }

  private trackMissing(output: FlushOutput): void {
    for (const { worker, rows } of output) worker.noteWritten(rows);
    const sums: Record<string, number> = { spot: 0, usdm: 0, coinm: 0 };
    for (const w of this.shell.owned.values()) w.addMissingTo(sums);
    for (const [market, n] of Object.entries(sums)) this.o.metrics.missingIds.set({ market }, n);
  }

  /** Writes what is pending now (and snapshots what is due); one flush at a time. */
  flush(): Promise<void> {
    return this.shell.flush();
  }

  health(): { healthy: boolean; details: Record<string, unknown> } {
    const now = this.now();
    const pending = this.pendingRows();
    const s = this.shell.status();
    const stale = pending > 0 && now - s.lastWriteOkMs > 30_000;
    return {
      healthy: !stale && !s.stopping,
      details: {
        assignedPartitions: s.assigned,
        pendingRows: pending,
        lastFlushOkAgoMs: now - s.lastWriteOkMs,
        tooOldTrades: this.tooOld.snapshot(),
        ...(s.lastWriteError ? { lastFlushError: s.lastWriteError } : {}),
      },
    };
  }

  /** Stop consuming → flush (QuestDB) → snapshot + commit → disconnect. Idempotent. */
  stop(): Promise<void> {
    return (this.stopped ??= (async () => {
      await this.shell.stop();
      await this.anchors?.stop().catch(() => undefined);
      await this.bars?.close().catch(() => undefined);
      await this.deadLetters.close().catch(() => undefined);
      await this.snapshots.close().catch(() => undefined);
      await this.o.writer.close();
    })());
  }
}

/** Max ingest receipt time per (market, symbol, minute) over one batch's trades. */
class ReceiptTimes {
  /** Per market and symbol: the first minute seen inline (the common case), others in `more`. */
  private readonly byMarket = new Map<string, Map<string, { ts: number; ms: number; more?: Map<number, number> }>>();
  private lastMarket = '';
  private last: Map<string, { ts: number; ms: number; more?: Map<number, number> }> | undefined;

  note(market: string, symbol: string, tradeTimeMs: number, receivedAtMs: number): void {
    if (market !== this.lastMarket || !this.last) {
      this.lastMarket = market;
      this.last = this.byMarket.get(market);
      if (!this.last) this.byMarket.set(market, (this.last = new Map()));
    }
    const ts = minuteOf(tradeTimeMs);
    const e = this.last.get(symbol);
    if (!e) this.last.set(symbol, { ts, ms: receivedAtMs });
    else if (e.ts === ts) {
      if (receivedAtMs > e.ms) e.ms = receivedAtMs;
    } else {
      e.more ??= new Map();
      const prev = e.more.get(ts);
      if (prev === undefined || receivedAtMs > prev) e.more.set(ts, receivedAtMs);
    }
  }

  get(market: string, symbol: string, ts: number): number | undefined {
    const e = this.byMarket.get(market)?.get(symbol);
    if (!e) return undefined;
    return e.ts === ts ? e.ms : e.more?.get(ts);
  }
}
