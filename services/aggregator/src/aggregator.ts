import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Backoff, RateLimitedLog, sleep, type Logger } from '@cvd/common';
import { serializeState, type BarRow, type EngineOptions, type EngineTrade, type BatchResult } from '@cvd/engine';
import { BatchingProducer, topicOffsets, type OutMessage } from '@cvd/kafka';
import { BarWriter } from '@cvd/questdb';
import { decodeRecord } from './decode.js';
import type { AggregatorMetrics } from './metrics.js';
import { PartitionWorker } from './partition-worker.js';
import { SnapshotStore, type Snapshot } from './snapshots.js';

export interface AggregatorCoreOptions {
  kafka: Kafka;
  writer: BarWriter;
  logger: Logger;
  metrics: AggregatorMetrics;
  topics: { trades: string; deadLetter: string; state: string };
  groupId: string;
  engine: Partial<EngineOptions>;
  flushIntervalMs: number;
  snapshotIntervalMs: number;
  idleAfterMs: number;
  maxPendingRows: number;
  /** @defaultValue 30000 */
  sessionTimeoutMs?: number;
  now?: () => number;
}

interface LoadedPartition {
  snapshot?: Snapshot;
  /** Oldest retained offset. */
  low: bigint;
  /** Offset after the last record when the partition was assigned. */
  high: bigint;
}

/** Waits for `p`, sending Kafka heartbeats meanwhile so a long wait is not a dead member. */
async function awaitWithHeartbeat<T>(p: Promise<T>, heartbeat?: () => Promise<void>): Promise<T> {
  if (!heartbeat) return p;
  let done = false;
  const guarded = p.finally(() => {
    done = true;
  });
  while (!done) {
    await Promise.race([guarded.catch(() => undefined), sleep(1000)]);
    if (!done) await heartbeat().catch(() => undefined);
  }
  return guarded;
}

/**
 * The consumer shell of the aggregator. Partition = unit of state: on every assignment the
 * partition's state is restored from its newest snapshot and the partition replayed from the
 * snapshot's offset. Each flush writes the pending bar rows to QuestDB (retrying until they are
 * acknowledged), then — when due — snapshots each partition and commits the snapshot's offset.
 * A crash at any point leaves a snapshot whose replay regenerates identical rows.
 */
export class Aggregator {
  private consumer: Consumer | undefined;
  private readonly snapshots: SnapshotStore;
  private readonly deadLetters: BatchingProducer;
  private workers = new Map<number, PartitionWorker>();
  /** Bumped at every rebalance; work started in an older epoch never snapshots or commits. */
  private epoch = 0;
  private assigned: number[] = [];
  private restoring: Promise<Map<number, LoadedPartition>> = Promise.resolve(new Map());
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Set while stop() drains: a failing QuestDB then gets a bounded number of retries. */
  private drainingSinceMs: number | undefined;
  private lastFlushOkMs: number;
  private lastFlushError: string | undefined;
  private readonly now: () => number;
  private readonly rl: RateLimitedLog;
  private readonly missingByBar = new Map<string, { market: string; missing: number }>();

  constructor(private readonly o: AggregatorCoreOptions) {
    this.now = o.now ?? Date.now;
    this.lastFlushOkMs = this.now();
    this.snapshots = new SnapshotStore(o.kafka, { stateTopic: o.topics.state, tradesTopic: o.topics.trades, groupId: o.groupId, logger: o.logger });
    this.deadLetters = new BatchingProducer(o.kafka, { logger: o.logger.child({ component: 'dead-letters' }), lingerMs: 20 });
    this.rl = new RateLimitedLog(o.logger, { intervalMs: 10_000 });
  }

  async start(): Promise<void> {
    const { kafka, topics, groupId, logger, metrics } = this.o;
    await this.snapshots.connect();
    await this.deadLetters.connect();
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: this.o.sessionTimeoutMs ?? 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: Math.max(500, Math.floor((this.o.sessionTimeoutMs ?? 30_000) / 10)),
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxWaitTimeInMs: 100,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.REBALANCING, () => {
      this.epoch++;
      metrics.rebalances.inc();
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.epoch++;
      const partitions = [...(e.payload.memberAssignment[topics.trades] ?? [])].sort((a, b) => a - b);
      this.assigned = partitions;
      // Every assignment restores from the snapshots: in-memory progress past the last snapshot
      // is dropped and replayed, which is what makes rebalances unable to change a value.
      this.workers = new Map();
      metrics.assigned.set(partitions.length);
      logger.info({ partitions, epoch: this.epoch }, 'partitions assigned');
      const epoch = this.epoch;
      this.restoring = this.loadPartitions(partitions);
      // Set every assigned partition up now, not at its first batch: a partition that gets no
      // new records after a rebalance must still finalise its last minutes by idle time.
      this.restoring.then(
        (loaded) => {
          if (epoch !== this.epoch) return;
          for (const [p, entry] of loaded) {
            if (this.workers.has(p)) continue;
            const worker = this.createWorker(p, entry);
            this.workers.set(p, worker);
            // The snapshot, not the group's committed offset, decides where to resume: a
            // committed offset can be ahead of the newest snapshot this replica could read
            // (the previous owner committed during the rebalance), and with no records past
            // it no batch would ever arrive to trigger the replay.
            this.consumer?.seek({ topic: topics.trades, partition: p, offset: worker.nextOffset.toString() });
          }
        },
        () => undefined,
      );
    });
    consumer.on(consumer.events.CRASH, (e) => {
      logger.error({ err: e.payload.error, restart: e.payload.restart }, 'Kafka consumer crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.trades, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.timer = setInterval(() => void this.tick(), this.o.flushIntervalMs);
  }

  private async loadPartitions(partitions: number[]): Promise<Map<number, LoadedPartition>> {
    const started = this.now();
    const offsets = await topicOffsets(this.o.kafka, this.o.topics.trades);
    const snaps = await this.snapshots.readMany(partitions);
    const out = new Map<number, LoadedPartition>();
    for (const p of partitions) {
      const o = offsets.find((x) => x.partition === p);
      const low = BigInt(o?.low ?? '0');
      const high = BigInt(o?.high ?? '0');
      const snapshot = snaps.get(p);
      out.set(p, snapshot ? { snapshot, low, high } : { low, high });
      this.o.metrics.restores.inc({ from: snapshot ? 'snapshot' : 'beginning' });
    }
    this.o.logger.info(
      { partitions, fromSnapshot: [...snaps.keys()], ms: this.now() - started },
      'partition state restored',
    );
    return out;
  }

  private async workerFor(partition: number, epoch: number, heartbeat: () => Promise<void>): Promise<PartitionWorker | undefined> {
    const existing = this.workers.get(partition);
    if (existing) return existing;
    const loaded = await awaitWithHeartbeat(this.restoring, heartbeat);
    if (epoch !== this.epoch) return undefined;
    const entry = loaded.get(partition);
    if (!entry) return undefined;
    const worker = this.createWorker(partition, entry);
    this.workers.set(partition, worker);
    return worker;
  }

  private createWorker(partition: number, entry: LoadedPartition): PartitionWorker {
    const now = this.now();
    let worker: PartitionWorker;
    if (entry.snapshot && entry.snapshot.nextOffset >= entry.low) {
      worker = new PartitionWorker(partition, entry.snapshot.state, entry.snapshot.nextOffset, now);
    } else {
      if (entry.snapshot) {
        this.o.logger.error({ partition, snapshotOffset: entry.snapshot.nextOffset.toString(), low: entry.low.toString() }, 'snapshot is older than the retained trades; continuing from it (trades deleted by retention are lost to these bars)');
        worker = new PartitionWorker(partition, entry.snapshot.state, entry.low, now);
      } else {
        worker = PartitionWorker.fresh(partition, this.o.engine, entry.low, now);
      }
    }
    worker.knownHighWatermark = entry.high;
    return worker;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const epoch = this.epoch;
    const { partition } = batch;
    const worker = await this.workerFor(partition, epoch, heartbeat);
    if (!worker || epoch !== this.epoch || this.stopping) return;
    const first = batch.messages[0];
    if (!first) return;
    if (BigInt(first.offset) > worker.nextOffset) {
      // The group's committed offset is ahead of our snapshot: go back and replay from it.
      this.o.logger.info({ partition, from: worker.nextOffset.toString(), fetched: first.offset }, 'seeking to the snapshot offset');
      this.consumer?.seek({ topic: batch.topic, partition, offset: worker.nextOffset.toString() });
      return;
    }
    const trades: EngineTrade[] = [];
    const origin: { offset: string; key: Buffer | null }[] = [];
    let next = worker.nextOffset;
    const dead: OutMessage[] = [];
    const latency = this.o.metrics.ingestToApply;
    const received: number[] | undefined = latency ? [] : undefined;
    for (const m of batch.messages) {
      if (!isRunning() || isStale()) break;
      const off = BigInt(m.offset);
      if (off < next) {
        resolveOffset(m.offset);
        continue;
      }
      const d = decodeRecord(m.value, received);
      if (d.ok) {
        for (const t of d.trades) {
          trades.push(t);
          origin.push({ offset: m.offset, key: m.key });
        }
      } else {
        dead.push(this.deadLetter(m.key, m.value, d.reason, d.detail, batch.topic, partition, m.offset));
        this.rl.warn(`decode:${d.reason}`, { partition, offset: m.offset, reason: d.reason, detail: d.detail }, 'undecodable trade record dead-lettered');
      }
      next = off + 1n;
      resolveOffset(m.offset);
    }
    worker.knownHighWatermark = BigInt(batch.highWatermark);
    if (next === worker.nextOffset) return;
    this.o.metrics.records.inc({ partition: String(partition) }, Number(next - worker.nextOffset));
    const result = worker.apply(trades, next, this.now());
    if (latency && received) {
      const appliedAt = Date.now();
      for (const r of received) latency.observe((appliedAt - r) / 1000);
    }
    this.account(result, (i) => origin[i], dead, batch.topic, partition);
    if (dead.length) this.deadLetters.enqueue(this.o.topics.deadLetter, dead);
    this.o.metrics.lag.set({ partition: String(partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - next)));
    this.o.metrics.pendingRows.set(this.pendingRows());
    if (this.pendingRows() >= this.o.maxPendingRows) await this.flush(heartbeat);
    await heartbeat();
  }

  private account(
    result: BatchResult,
    origin: (i: number) => { offset: string; key: Buffer | null } | undefined,
    dead: OutMessage[],
    topic: string,
    partition: number,
  ): void {
    const { stats } = result;
    const m = this.o.metrics;
    m.trades.inc(stats.applied);
    if (stats.duplicates) m.duplicates.inc(stats.duplicates);
    if (stats.lateRevisions) m.lateRevisions.inc(stats.lateRevisions);
    if (stats.lateBeyondHorizon) m.lateBeyondHorizon.inc(stats.lateBeyondHorizon);
    for (const r of result.rejected) {
      const o = origin(r.index);
      dead.push(this.deadLetter(o?.key ?? null, Buffer.from(JSON.stringify(r.trade)), r.reason, r.detail, topic, partition, o?.offset ?? '-1'));
      this.rl.warn(`reject:${r.reason}`, { partition, reason: r.reason, detail: r.detail }, 'trade rejected by the engine and dead-lettered');
    }
  }

  private deadLetter(key: Buffer | null, value: Buffer | null, reason: string, detail: string, topic: string, partition: number, offset: string): OutMessage {
    this.o.metrics.deadLetters.inc({ reason });
    return {
      key: key ?? Buffer.alloc(0),
      value,
      headers: {
        reason,
        detail: detail.slice(0, 500),
        service: 'aggregator',
        'source-topic': topic,
        'source-partition': String(partition),
        'source-offset': offset,
      },
    };
  }

  private pendingRows(): number {
    let n = 0;
    for (const w of this.workers.values()) n += w.pendingCount;
    return n;
  }

  /** Timer: advance quiet partitions' watermarks, then flush what is pending. */
  private async tick(): Promise<void> {
    if (this.stopping || this.flushing) return;
    const now = this.now();
    for (const w of this.workers.values()) {
      const r = w.advanceIdle(now, this.o.idleAfterMs);
      if (r) this.account(r, () => undefined, [], this.o.topics.trades, w.partition);
    }
    await this.flush().catch((err) => this.o.logger.error({ err }, 'flush failed'));
  }

  /** One flush at a time; a caller arriving during a flush waits for it (with heartbeats). */
  flush(heartbeat?: () => Promise<void>): Promise<void> {
    if (this.flushing) return awaitWithHeartbeat(this.flushing, heartbeat);
    this.flushing = this.doFlush(heartbeat).finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async doFlush(heartbeat?: () => Promise<void>): Promise<void> {
    const epoch = this.epoch;
    const now = this.now();
    const rows: BarRow[] = [];
    const due: { worker: PartitionWorker; nextOffset: bigint; state: string }[] = [];
    // Captured in one synchronous step: the rows and the snapshots describe the same offsets.
    for (const w of this.workers.values()) {
      rows.push(...w.takePending());
      if (w.nextOffset > w.snapshotOffset && now - w.lastSnapshotWallMs >= this.o.snapshotIntervalMs) {
        due.push({ worker: w, nextOffset: w.nextOffset, state: serializeState(w.state) });
      }
    }
    if (rows.length) await this.writeRows(rows, heartbeat);
    this.o.metrics.pendingRows.set(this.pendingRows());
    await awaitWithHeartbeat(this.deadLetters.flush(), heartbeat);
    if (due.length === 0 || epoch !== this.epoch || this.stopping) return;
    for (const d of due) {
      await this.snapshots.write(d.worker.partition, d.nextOffset, d.state);
      d.worker.snapshotOffset = d.nextOffset;
      d.worker.lastSnapshotWallMs = now;
      this.o.metrics.snapshots.inc();
      this.o.metrics.snapshotBytes.set({ partition: String(d.worker.partition) }, d.state.length);
    }
    if (epoch !== this.epoch) return;
    try {
      await this.consumer?.commitOffsets(due.map((d) => ({ topic: this.o.topics.trades, partition: d.worker.partition, offset: d.nextOffset.toString() })));
    } catch (err) {
      // A rebalance between snapshot and commit: harmless, the snapshot decides where to resume.
      this.o.logger.warn({ err }, 'offset commit failed (rebalance?)');
    }
  }

  /** Retries until QuestDB acknowledges — never gives rows up while running. */
  private async writeRows(rows: BarRow[], heartbeat?: () => Promise<void>): Promise<void> {
    const backoff = new Backoff({ initialMs: 250, maxMs: 5_000 });
    for (;;) {
      const t0 = this.now();
      try {
        await awaitWithHeartbeat(this.o.writer.write(rows, this.now()), heartbeat);
        this.o.metrics.flushSeconds.observe((this.now() - t0) / 1000);
        this.o.metrics.barsWritten.inc(rows.length);
        this.lastFlushOkMs = this.now();
        this.lastFlushError = undefined;
        this.trackMissing(rows);
        return;
      } catch (err) {
        this.o.metrics.writeFailures.inc();
        this.lastFlushError = (err as Error).message;
        const wait = backoff.next();
        this.rl.error('questdb-write', { err, rows: rows.length, retryInMs: wait }, 'QuestDB write failed; retrying (offsets stay uncommitted)');
        if (this.stopping || (this.drainingSinceMs !== undefined && this.now() - this.drainingSinceMs > 10_000)) throw err;
        await awaitWithHeartbeat(sleep(wait), heartbeat);
      }
    }
  }

  private trackMissing(rows: readonly BarRow[]): void {
    for (const r of rows) {
      const k = `${r.ts}|${r.market}|${r.symbol}`;
      if (r.missingAggIds > 0) this.missingByBar.set(k, { market: r.market, missing: r.missingAggIds });
      else this.missingByBar.delete(k);
    }
    const sums: Record<string, number> = { spot: 0, usdm: 0, coinm: 0 };
    for (const v of this.missingByBar.values()) sums[v.market] = (sums[v.market] ?? 0) + v.missing;
    for (const [market, n] of Object.entries(sums)) this.o.metrics.missingIds.set({ market }, n);
  }

  health(): { healthy: boolean; details: Record<string, unknown> } {
    const now = this.now();
    const pending = this.pendingRows();
    const stale = pending > 0 && now - this.lastFlushOkMs > 30_000;
    return {
      healthy: !stale && !this.stopping,
      details: {
        assignedPartitions: this.assigned,
        pendingRows: pending,
        lastFlushOkAgoMs: now - this.lastFlushOkMs,
        ...(this.lastFlushError ? { lastFlushError: this.lastFlushError } : {}),
      },
    };
  }

  /** Stop consuming → flush (QuestDB) → snapshot + commit → disconnect. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping || this.drainingSinceMs !== undefined) return;
    this.drainingSinceMs = this.now();
    clearInterval(this.timer);
    const consumer = this.consumer;
    // Pause first so no batch is mid-way while we take the final snapshot.
    try {
      consumer?.pause([{ topic: this.o.topics.trades }]);
    } catch {
      /* not running */
    }
    if (this.flushing) await this.flushing.catch(() => undefined);
    // Final flush with every partition's snapshot due, so a restart replays nothing.
    for (const w of this.workers.values()) w.lastSnapshotWallMs = Number.NEGATIVE_INFINITY;
    await this.flush().catch((err) => this.o.logger.error({ err }, 'final flush failed; a restart will replay from the last snapshot'));
    this.stopping = true;
    await consumer?.disconnect().catch(() => undefined);
    await this.deadLetters.close().catch(() => undefined);
    await this.snapshots.close().catch(() => undefined);
    await this.o.writer.close();
  }
}
