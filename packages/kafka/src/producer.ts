import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import { Backoff, type Logger } from '@cvd/common';
import { idempotentProducer, type OutMessage } from './sender.js';
import { KafkaError } from './errors.js';

export type { OutMessage } from './sender.js';

export interface BatchingProducerOptions {
  /** Wait this long to gather a batch after the first queued message. @defaultValue 5 */
  lingerMs?: number;
  /** Send as soon as this many messages are queued. @defaultValue 5000 */
  maxBatch?: number;
  /**
   * At most this many key + value bytes per send (the broker refuses a partition's record batch
   * over `max.message.bytes`, 1 MiB by default; a refused send would be retried forever).
   * A single larger message is still sent alone. @defaultValue 900000
   */
  maxBatchBytes?: number;
  /** Above this many queued messages `buffered` reports backpressure. @defaultValue 500000 */
  highWaterMark?: number;
  /** @defaultValue 'none' */
  compression?: 'none' | 'gzip';
  logger: Logger;
  /** Called after every acknowledged send (for metrics). */
  onSent?: (count: number, millis: number) => void;
  onError?: (err: unknown) => void;
}

/**
 * An idempotent (acks=all, one request in flight) producer that gathers messages into batches
 * and sends one batch at a time, so the order per key is the order of `enqueue`. A failed send
 * is retried with backoff — messages are never dropped while the process lives.
 */
export class BatchingProducer {
  private readonly producer: Producer;
  private queue: { topic: string; message: OutMessage }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private readonly backoff = new Backoff({ initialMs: 200, maxMs: 10_000 });
  private closed = false;
  private readonly waiters: (() => void)[] = [];
  private readonly opts: Required<Omit<BatchingProducerOptions, 'onSent' | 'onError'>> & Pick<BatchingProducerOptions, 'onSent' | 'onError'>;

  constructor(kafka: Kafka, options: BatchingProducerOptions) {
    this.opts = { lingerMs: 5, maxBatch: 5000, maxBatchBytes: 900_000, highWaterMark: 500_000, compression: 'none', ...options };
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

  enqueue(topic: string, messages: OutMessage[]): void {
    if (this.closed) throw new KafkaError('not-connected', 'producer is closed');
    for (const message of messages) this.queue.push({ topic, message });
    if (this.queue.length >= this.opts.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.opts.lingerMs);
  }

  /** Resolves when everything enqueued so far has been acknowledged. */
  flush(): Promise<void> {
    if (this.queue.length === 0 && !this.sending) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.kick();
    return p;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
      if (this.queue.length) this.kick();
      else for (const w of this.waiters.splice(0)) w();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      let count = 0;
      let bytes = 0;
      const limit = Math.min(this.opts.maxBatch, this.queue.length);
      while (count < limit) {
        const { message } = this.queue[count]!;
        const size = (message.value?.length ?? 0) + (typeof message.key === 'string' ? Buffer.byteLength(message.key) : message.key.length);
        if (count > 0 && bytes + size > this.opts.maxBatchBytes) break;
        bytes += size;
        count++;
      }
      const batch = this.queue.slice(0, count);
      const byTopic = new Map<string, OutMessage[]>();
      for (const { topic, message } of batch) {
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, (list = []));
        list.push(message);
      }
      const started = Date.now();
      try {
        await this.producer.sendBatch({
          acks: -1,
          compression: this.opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        this.queue.splice(0, batch.length);
        this.backoff.reset();
        this.opts.onSent?.(batch.length, Date.now() - started);
      } catch (err) {
        this.opts.onError?.(err);
        const wait = this.backoff.next();
        this.opts.logger.warn({ err, queued: this.queue.length, retryInMs: wait }, 'Kafka send failed; retrying');
        await new Promise((r) => setTimeout(r, wait));
        if (this.closed && this.queue.length === 0) return;
      }
    }
  }

  /** Sends what is queued (bounded by `timeoutMs`), then disconnects. Idempotent. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    if (this.queue.length) this.opts.logger.warn({ unsent: this.queue.length }, 'closing the producer with unsent messages');
    await this.producer.disconnect();
  }
}
