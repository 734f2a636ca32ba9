import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import { Backoff, type Logger } from '@cvd/common';
import { idempotentProducer, type OutMessage } from './sender.js';
import { KafkaError } from './errors.js';
import { BATCH_OVERHEAD_BYTES, isProducerStateError, recordBytes, refusalReason, TOPIC_WIDE_REASONS, type RefusalReason } from './refusal.js';

export type { OutMessage } from './sender.js';

/** A record as queued: where to and what. */
export interface QueuedRecord {
  readonly topic: string;
  readonly message: OutMessage;
}

/** Default of {@link BatchingProducerOptions.giveUpAfterMs}: 3 minutes. */
export const DEFAULT_GIVE_UP_AFTER_MS = 180_000;

export interface BatchingProducerOptions {
  /** Wait this long to gather a batch after the first queued message. @defaultValue 5 */
  lingerMs?: number;
  /** Send as soon as this many messages are queued. @defaultValue 5000 */
  maxBatch?: number;
  /**
   * At most this many bytes per send, counting each record's key, value, headers (keys and
   * values) and framing (`recordBytes`). The broker refuses a partition's record batch over the
   * topic's `max.message.bytes` (1 MiB by default). A single larger message is still sent alone.
   * @defaultValue 900000
   */
  maxBatchBytes?: number;
  /** Above this many queued messages `buffered` reports backpressure. @defaultValue 500000 */
  highWaterMark?: number;
  /** @defaultValue 'none' */
  compression?: 'none' | 'gzip';
  /**
   * Retriable failures (broker down, not the leader, timeouts) are retried with backoff for at
   * most this long without one acknowledged send; then the producer gives up: `onGiveUp` is
   * called once, `flush()` rejects with a `KafkaError` `send-timeout` and nothing more is sent.
   * @defaultValue 180000 (3 minutes)
   */
  giveUpAfterMs?: number;
  logger: Logger;
  /** Called after every acknowledged send (for metrics). */
  onSent?: (count: number, millis: number) => void;
  /** Called on every failed send that is retried. */
  onError?: (err: unknown) => void;
  /**
   * Records Kafka refused for good (`reason`, see `REFUSAL_REASONS`), after the batch was split
   * to isolate them: usually one record (several when the reason holds for a whole topic). They
   * are off the queue. What the callback returns is queued (also while `close()` drains): e.g. a
   * dead letter for them (`refusedDeadLetter`). Without a callback they are logged at error and
   * dropped.
   */
  onRejected?: (records: readonly QueuedRecord[], reason: RefusalReason, err: unknown) => readonly QueuedRecord[] | void;
  /** Called once when the producer gave up (see `giveUpAfterMs`): the service should report it and exit non-zero. */
  onGiveUp?: (err: KafkaError) => void;
}

type Callbacks = 'onSent' | 'onError' | 'onRejected' | 'onGiveUp';

/** A refused (sub-)batch: why. */
interface Refusal {
  readonly reason: RefusalReason;
  readonly err: unknown;
}

/** Thrown inside the drain loop when `close()` abandoned what is left (the producer is closed). */
const abandonedError = (): KafkaError => new KafkaError('not-connected', 'producer closed: the unsent rest of the queue was abandoned');

/**
 * An idempotent (acks=all, one request in flight) producer that gathers messages into batches
 * and sends one batch at a time, so the order per key is the order of `enqueue`.
 *
 * No send is retried forever. A refusal that can never succeed (too large, invalid record, not
 * authorised, invalid topic) splits the batch in halves, in order, until the refused record is
 * alone; it is then handed to `onRejected` and the rest goes on. A retriable failure is retried
 * with backoff until `giveUpAfterMs` passed without an acknowledged send, then the producer gives
 * up (`onGiveUp`).
 *
 * Delivery is at least once around a refusal: a refused request that spans several partitions
 * may have appended the partitions the broker accepted (kafkajs does not say which), and the
 * split sends them again under a fresh producer id. Every consumer of the pipeline tolerates a
 * duplicate (the aggregator dedupes trades by id; symbols are compacted; dead letters are evidence).
 */
export class BatchingProducer {
  private producer: Producer;
  private needsConnect = false;
  private queue: QueuedRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private readonly backoff = new Backoff({ initialMs: 200, maxMs: 10_000 });
  private closed = false;
  private abandoned = false;
  private failure: KafkaError | undefined;
  private failingSince: number | undefined;
  private refused = 0;
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private readonly waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private readonly opts: Required<Omit<BatchingProducerOptions, Callbacks>> & Pick<BatchingProducerOptions, Callbacks>;

  constructor(private readonly kafka: Kafka, options: BatchingProducerOptions) {
    this.opts = {
      lingerMs: 5,
      maxBatch: 5000,
      maxBatchBytes: 900_000,
      highWaterMark: 500_000,
      compression: 'none',
      giveUpAfterMs: DEFAULT_GIVE_UP_AFTER_MS,
      ...options,
    };
    this.producer = idempotentProducer(kafka);
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /** Number of messages not yet acknowledged by Kafka. */
  get buffered(): number {
    return this.queue.length;
  }

  get overHighWaterMark(): boolean {
    return this.queue.length >= this.opts.highWaterMark;
  }

  /** Sends Kafka refused for good so far (each refused piece of a split counts once). */
  get refusedSends(): number {
    return this.refused;
  }

  /** The give-up error once the producer gave up, else `undefined`. */
  get gaveUp(): KafkaError | undefined {
    return this.failure;
  }

  enqueue(topic: string, messages: OutMessage[]): void {
    if (this.closed) throw new KafkaError('not-connected', 'producer is closed');
    for (const message of messages) this.queue.push({ topic, message });
    if (this.queue.length >= this.opts.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.opts.lingerMs);
  }

  /**
   * Resolves when everything enqueued so far has been acknowledged (or refused and handed to
   * `onRejected`); rejects with the `send-timeout` error once the producer gave up.
   */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queue.length === 0 && !this.sending) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.kick();
    return p;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.failure || this.abandoned) return;
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
      if (this.failure || this.abandoned) this.rejectWaiters(this.failure ?? new KafkaError('not-connected', `producer closed with ${this.queue.length} unsent messages`));
      else if (this.queue.length) this.kick();
      else for (const w of this.waiters.splice(0)) w.resolve();
    });
  }

  private rejectWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** How many queued messages the next send takes: `maxBatch` and `maxBatchBytes` bound it. */
  private nextCount(): number {
    let count = 0;
    let bytes = BATCH_OVERHEAD_BYTES;
    const limit = Math.min(this.opts.maxBatch, this.queue.length);
    while (count < limit) {
      const size = recordBytes(this.queue[count]!.message);
      if (count > 0 && bytes + size > this.opts.maxBatchBytes) break;
      bytes += size;
      count++;
    }
    return count;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length && !this.failure && !this.abandoned) await this.sendOrSplit(this.queue.slice(0, this.nextCount()));
    } catch (err) {
      if (this.abandoned && err instanceof KafkaError && err.code === 'not-connected') return;
      if (err instanceof KafkaError && err.code === 'send-timeout') {
        this.failure = err;
        // With a callback, the caller reports it (the service's one line before it exits).
        if (this.opts.onGiveUp) this.opts.onGiveUp(err);
        else this.opts.logger.error({ err, unsent: this.queue.length }, err.message);
        return;
      }
      throw err;
    }
  }

  /**
   * Sends `batch` (the head of the queue); on a refusal sends each half in turn, down to the one
   * refused record. Each piece leaves the queue once it was acknowledged or handed to `onRejected`.
   */
  private async sendOrSplit(batch: readonly QueuedRecord[]): Promise<void> {
    const refused = await this.trySend(batch);
    if (refused === undefined) {
      this.queue.splice(0, batch.length);
      return;
    }
    this.refused += 1;
    const oneTopic = batch.every((r) => r.topic === batch[0]!.topic);
    if (batch.length === 1 || (oneTopic && TOPIC_WIDE_REASONS.has(refused.reason))) {
      this.queue.splice(0, batch.length);
      this.reject(batch, refused);
      return;
    }
    const mid = Math.ceil(batch.length / 2);
    this.opts.logger.debug({ records: batch.length, reason: refused.reason }, 'Kafka refused a send: splitting it');
    await this.sendOrSplit(batch.slice(0, mid));
    await this.sendOrSplit(batch.slice(mid));
  }

  private reject(records: readonly QueuedRecord[], refused: Refusal): void {
    if (this.opts.onRejected) {
      const follow = this.opts.onRejected(records, refused.reason, refused.err);
      if (follow) this.queue.push(...follow);
      return;
    }
    this.opts.logger.error(
      { err: refused.err, reason: refused.reason, records: records.length, topic: records[0]?.topic },
      'Kafka refused records for good: dropped',
    );
  }

  /** One send of `batch`, retrying retriable failures; `undefined` once acknowledged, the refusal otherwise. */
  private async trySend(batch: readonly QueuedRecord[]): Promise<Refusal | undefined> {
    const byTopic = new Map<string, OutMessage[]>();
    for (const { topic, message } of batch) {
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push(message);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    for (;;) {
      if (this.abandoned) throw abandonedError();
      const started = Date.now();
      try {
        if (this.needsConnect) {
          await this.producer.connect();
          this.needsConnect = false;
        }
        await this.producer.sendBatch({
          acks: -1,
          compression: this.opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
          topicMessages,
        });
        this.backoff.reset();
        this.failingSince = undefined;
        this.opts.onSent?.(batch.length, Date.now() - started);
        return undefined;
      } catch (err) {
        if (this.abandoned) throw abandonedError();
        const reason = refusalReason(err);
        // The broker may have appended the partitions of this request it did not refuse;
        // resending a part of them under the same producer id would break its sequence
        // numbers (OUT_OF_ORDER_SEQUENCE_NUMBER). A fresh producer id resends them as new
        // records: at least once, as every consumer of the pipeline expects.
        if (reason !== undefined || isProducerStateError(err)) await this.renewProducer();
        if (reason !== undefined) return { reason, err };
        this.opts.onError?.(err);
        const now = Date.now();
        this.failingSince ??= now;
        if (now - this.failingSince >= this.opts.giveUpAfterMs) {
          const last = err instanceof Error ? err.message : String(err);
          throw new KafkaError(
            'send-timeout',
            `Kafka sends failed for ${Math.round((now - this.failingSince) / 1000)} s (last error: ${last}); giving up after ${Math.round(this.opts.giveUpAfterMs / 1000)} s`,
            { cause: err },
          );
        }
        const wait = this.backoff.next();
        this.opts.logger.warn({ err, queued: this.queue.length, retryInMs: wait }, 'Kafka send failed; retrying');
        await this.sleep(wait);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.sleeping = undefined;
        resolve();
      };
      this.sleeping = { timer: setTimeout(wake, ms), wake };
    });
  }

  /** Replaces the kafkajs producer by a fresh one (a new producer id); it connects on the next send. */
  private async renewProducer(): Promise<void> {
    const old = this.producer;
    this.producer = idempotentProducer(this.kafka);
    this.needsConnect = true;
    await withDeadline(old.disconnect(), 5_000).catch(() => undefined);
  }

  /**
   * Sends what is queued for at most `timeoutMs`, then abandons the rest (logged) and disconnects
   * (itself bounded by 5 s: a broker that is gone cannot hold the stop). Idempotent.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await withDeadline(this.flush(), timeoutMs).catch(() => undefined);
    this.abandoned = true;
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.wake();
    }
    if (this.queue.length) this.opts.logger.warn({ unsent: this.queue.length }, 'closing the producer with unsent messages');
    this.rejectWaiters(new KafkaError('not-connected', `producer closed with ${this.queue.length} unsent messages`));
    await withDeadline(this.producer.disconnect(), 5_000).catch((err: unknown) => this.opts.logger.warn({ err }, 'producer disconnect did not finish'));
  }
}

/** `p`, or a rejection once `ms` passed (the timer never holds the process). */
export function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KafkaError('timeout', `did not finish within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
