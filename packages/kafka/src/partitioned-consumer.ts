/**
 * A consumer shell for partitioned, stateful work (partition = unit of state). It owns the
 * Kafka side: connecting, subscribing, restoring on every assignment, seeking each partition
 * to its restored offset, heartbeats during long waits, flush-then-commit, rebalance epochs,
 * the flush timer and a bounded stop. The caller supplies plain functions: `restore`,
 * `decode`, `apply`, and for each flush `collect` (capture what is pending), `write` (the
 * sink: idempotent, throw to retry) and `checkpoint` (persist state at an offset). An offset
 * is committed only after the sink acknowledged and the checkpoint is stored, and never by
 * work that started before the latest rebalance.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Backoff, sleep, type Logger } from '@cvd/common';

/** What the shell needs to know of a partition's state. */
export interface PartitionProgress {
  /** Next offset to process: the shell seeks here after a restore and skips records below it. */
  readonly nextOffset: bigint;
}

/** One fetched record, as the shell hands it to `decode`. */
export interface ConsumedRecord {
  readonly partition: number;
  readonly offset: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/** The decoded records of one batch of one partition, past the partition's `nextOffset`. */
export interface DecodedBatch<D> {
  readonly topic: string;
  readonly partition: number;
  /** In offset order; empty when the batch held only records already applied. */
  readonly records: readonly D[];
  /** Offset after the last record in `records` (the partition's new `nextOffset`). */
  readonly nextOffset: bigint;
  readonly highWatermark: bigint;
}

/** A partition whose state is to be persisted at `offset`; the shell then commits `offset`. */
export interface Checkpoint {
  readonly partition: number;
  readonly offset: bigint;
}

/** What one flush hands the sink and which partitions it then checkpoints. */
export interface FlushWork<O, C extends Checkpoint> {
  readonly output: O;
  readonly checkpoints: readonly C[];
}

export type Heartbeat = () => Promise<void>;

export interface PartitionedConsumerHandlers<P extends PartitionProgress, D, O, C extends Checkpoint> {
  /** The state of newly assigned partitions (every assignment restores: a rebalance cannot change a value). */
  restore(partitions: readonly number[]): Promise<Map<number, P>>;
  /** One record → whatever `apply` takes (failures included: dead-lettering is the caller's rule). */
  decode(record: ConsumedRecord): D;
  /** Applies a batch to its partition's state; must leave `state.nextOffset === batch.nextOffset`. */
  apply(state: P, batch: DecodedBatch<D>): void;
  /** Work waiting for the sink (backpressure: at `maxPending` a batch waits for a flush). */
  pending(): number;
  /** Timer hook before each periodic flush (e.g. advance quiet partitions' watermarks). */
  tick?(partitions: ReadonlyMap<number, P>): void;
  /**
   * Captures, in one synchronous step, the output to write and the partitions due for a
   * checkpoint, so both describe the same offsets. `final` is set on the flush of `stop()`.
   */
  collect(partitions: ReadonlyMap<number, P>, options: { final: boolean }): FlushWork<O, C>;
  /** The sink. Must be idempotent: a failure is retried with backoff until it succeeds. */
  write(output: O, heartbeat: Heartbeat | undefined): Promise<void>;
  /** Persists a partition's state at `checkpoint.offset` (runs after `write` succeeded). */
  checkpoint(checkpoint: C): Promise<void>;
}

/** Metrics and logging hooks; all optional. */
export interface PartitionedConsumerHooks {
  rebalance?(): void;
  assigned?(partitions: readonly number[], epoch: number): void;
  writeFailed?(err: unknown, retryInMs: number): void;
}

/** Just the kafkajs surface the shell uses (a fake implements it in unit tests). */
export type ConsumerFactory = Pick<Kafka, 'consumer'>;

export interface PartitionedConsumerOptions<P extends PartitionProgress, D, O, C extends Checkpoint> {
  kafka: ConsumerFactory;
  topic: string;
  groupId: string;
  logger: Logger;
  handlers: PartitionedConsumerHandlers<P, D, O, C>;
  hooks?: PartitionedConsumerHooks;
  /** Period of `tick` + flush. */
  flushIntervalMs: number;
  /** A batch arriving with this much pending work waits for a flush first. */
  maxPending: number;
  /** @defaultValue 30000 */
  sessionTimeoutMs?: number;
  /** How long `stop()` keeps retrying a failing sink before giving the rows up to a replay. @defaultValue 10000 */
  drainTimeoutMs?: number;
  /** Backoff of a failing sink. @defaultValue `{ initialMs: 250, maxMs: 5000 }` */
  writeBackoff?: { initialMs: number; maxMs: number };
  now?: () => number;
}

/** Waits for `p`, sending Kafka heartbeats meanwhile so a long wait is not a dead member. */
export async function awaitWithHeartbeat<T>(p: Promise<T>, heartbeat?: Heartbeat, everyMs = 1000): Promise<T> {
  if (!heartbeat) return p;
  let done = false;
  const guarded = p.finally(() => {
    done = true;
  });
  while (!done) {
    await Promise.race([guarded.catch(() => undefined), sleep(everyMs)]);
    if (!done) await heartbeat().catch(() => undefined);
  }
  return guarded;
}

export class PartitionedConsumer<P extends PartitionProgress, D, O, C extends Checkpoint> {
  private consumer: Consumer | undefined;
  private partitions = new Map<number, P>();
  /** Bumped at every rebalance; work started in an older epoch never checkpoints or commits. */
  private epoch = 0;
  private assignedPartitions: number[] = [];
  private restoring: Promise<Map<number, P>> = Promise.resolve(new Map());
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Set while stop() drains: a failing sink then gets a bounded number of retries. */
  private drainingSinceMs: number | undefined;
  private lastWriteOkMs: number;
  private lastWriteError: string | undefined;
  private readonly now: () => number;
  private readonly h: PartitionedConsumerHandlers<P, D, O, C>;

  constructor(private readonly o: PartitionedConsumerOptions<P, D, O, C>) {
    this.now = o.now ?? Date.now;
    this.lastWriteOkMs = this.now();
    this.h = o.handlers;
  }

  /** The partitions owned now, with their state (empty while a restore runs). */
  get owned(): ReadonlyMap<number, P> {
    return this.partitions;
  }

  /** For health reports. */
  status(): { assigned: readonly number[]; stopping: boolean; lastWriteOkMs: number; lastWriteError: string | undefined } {
    return { assigned: this.assignedPartitions, stopping: this.stopping, lastWriteOkMs: this.lastWriteOkMs, lastWriteError: this.lastWriteError };
  }

  async start(): Promise<void> {
    const { kafka, topic, groupId, logger } = this.o;
    const sessionTimeout = this.o.sessionTimeoutMs ?? 30_000;
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout,
      rebalanceTimeout: 60_000,
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 10)),
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxWaitTimeInMs: 100,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.REBALANCING, () => {
      this.epoch++;
      this.o.hooks?.rebalance?.();
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => this.onAssignment([...(e.payload.memberAssignment[topic] ?? [])]));
    consumer.on(consumer.events.CRASH, (e) => {
      // A retriable crash (a rebalance or a leader move at start-up) restarts the consumer by
      // itself; only a crash it does not come back from is an error.
      if (e.payload.restart) logger.warn({ err: e.payload.error }, 'Kafka consumer restarting after a retriable error');
      else logger.error({ err: e.payload.error }, 'Kafka consumer crashed and stays down');
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.timer = setInterval(() => void this.tick(), this.o.flushIntervalMs);
  }

  private onAssignment(assigned: number[]): void {
    this.epoch++;
    const partitions = assigned.sort((a, b) => a - b);
    const epoch = this.epoch;
    this.assignedPartitions = partitions;
    // In-memory progress past the last checkpoint is dropped and replayed.
    this.partitions = new Map();
    this.o.hooks?.assigned?.(partitions, epoch);
    this.o.logger.info({ partitions, epoch }, 'partitions assigned');
    this.restoring = this.h.restore(partitions);
    // Set every partition up now, not at its first batch: one that gets no new records after
    // a rebalance must still reach its `tick`s.
    this.restoring.then(
      (restored) => {
        if (epoch !== this.epoch) return;
        for (const [p, state] of restored) {
          if (this.partitions.has(p)) continue;
          this.partitions.set(p, state);
          // The restored state, not the group's committed offset, decides where to resume: a
          // committed offset can be ahead of the newest checkpoint this member could read (the
          // previous owner committed during the rebalance), and with no records past it no
          // batch would ever arrive to trigger the replay.
          this.consumer?.seek({ topic: this.o.topic, partition: p, offset: state.nextOffset.toString() });
        }
      },
      (err: unknown) => this.o.logger.error({ err, partitions }, 'restoring the assigned partitions failed'),
    );
  }

  private async stateFor(partition: number, epoch: number, heartbeat: Heartbeat): Promise<P | undefined> {
    const existing = this.partitions.get(partition);
    if (existing) return existing;
    await awaitWithHeartbeat(this.restoring, heartbeat);
    if (epoch !== this.epoch) return undefined;
    return this.partitions.get(partition);
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const epoch = this.epoch;
    const { partition, topic } = batch;
    const state = await this.stateFor(partition, epoch, heartbeat);
    if (!state || epoch !== this.epoch || this.stopping) return;
    const first = batch.messages[0];
    if (!first) return;
    const from = state.nextOffset;
    if (BigInt(first.offset) > from) {
      // The group's committed offset is ahead of the restored state: go back and replay.
      this.o.logger.info({ partition, from: from.toString(), fetched: first.offset }, 'seeking to the restored offset');
      this.consumer?.seek({ topic, partition, offset: from.toString() });
      return;
    }
    const records: D[] = [];
    let next = from;
    for (const m of batch.messages) {
      if (!isRunning() || isStale()) break;
      const offset = BigInt(m.offset);
      if (offset >= next) {
        records.push(this.h.decode({ partition, offset, key: m.key, value: m.value }));
        next = offset + 1n;
      }
      resolveOffset(m.offset);
    }
    this.h.apply(state, { topic, partition, records, nextOffset: next, highWatermark: BigInt(batch.highWatermark) });
    if (records.length === 0) return;
    if (this.h.pending() >= this.o.maxPending) await this.flush(heartbeat);
    await heartbeat();
  }

  private async tick(): Promise<void> {
    if (this.stopping || this.flushing) return;
    this.h.tick?.(this.partitions);
    await this.flush().catch((err: unknown) => this.o.logger.error({ err }, 'flush failed'));
  }

  /** One flush at a time; a caller arriving during a flush waits for it (with heartbeats). */
  flush(heartbeat?: Heartbeat, final = false): Promise<void> {
    if (this.flushing) return awaitWithHeartbeat(this.flushing, heartbeat);
    this.flushing = this.doFlush(heartbeat, final).finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async doFlush(heartbeat: Heartbeat | undefined, final: boolean): Promise<void> {
    const epoch = this.epoch;
    const work = this.h.collect(this.partitions, { final });
    await this.write(work.output, heartbeat);
    if (work.checkpoints.length === 0 || epoch !== this.epoch || this.stopping) return;
    for (const c of work.checkpoints) await this.h.checkpoint(c);
    if (epoch !== this.epoch) return;
    try {
      await this.consumer?.commitOffsets(work.checkpoints.map((c) => ({ topic: this.o.topic, partition: c.partition, offset: c.offset.toString() })));
    } catch (err) {
      // A rebalance between checkpoint and commit: harmless, the checkpoint decides where to resume.
      this.o.logger.warn({ err }, 'offset commit failed (rebalance?)');
    }
  }

  /** Retries until the sink acknowledges — never gives output up while running. */
  private async write(output: O, heartbeat: Heartbeat | undefined): Promise<void> {
    const backoff = new Backoff(this.o.writeBackoff ?? { initialMs: 250, maxMs: 5_000 });
    const drainMs = this.o.drainTimeoutMs ?? 10_000;
    for (;;) {
      try {
        await awaitWithHeartbeat(this.h.write(output, heartbeat), heartbeat);
        this.lastWriteOkMs = this.now();
        this.lastWriteError = undefined;
        return;
      } catch (err) {
        this.lastWriteError = err instanceof Error ? err.message : String(err);
        const wait = backoff.next();
        this.o.hooks?.writeFailed?.(err, wait);
        if (this.stopping || (this.drainingSinceMs !== undefined && this.now() - this.drainingSinceMs > drainMs)) throw err;
        await awaitWithHeartbeat(sleep(wait), heartbeat);
      }
    }
  }

  /**
   * Stop consuming → final flush (sink, then every partition's checkpoint) → commit →
   * disconnect. Bounded: a failing sink is retried for `drainTimeoutMs` at most, after which
   * the output is left to a replay from the last checkpoint. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopping || this.drainingSinceMs !== undefined) return;
    this.drainingSinceMs = this.now();
    clearInterval(this.timer);
    const consumer = this.consumer;
    // Pause first so no batch is mid-way while the final checkpoints are taken.
    try {
      consumer?.pause([{ topic: this.o.topic }]);
    } catch {
      /* not running */
    }
    if (this.flushing) await this.flushing.catch(() => undefined);
    await this.flush(undefined, true).catch((err: unknown) => this.o.logger.error({ err }, 'final flush failed; a restart will replay from the last checkpoint'));
    this.stopping = true;
    await consumer?.disconnect().catch(() => undefined);
  }
}
