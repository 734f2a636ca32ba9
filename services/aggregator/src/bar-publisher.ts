import { RateLimitedLog, type Logger } from '@cvd/common';
import { symbolKey } from '@cvd/core';
import type { BarRow } from '@cvd/engine';
import { Partitioners, type Kafka, type Producer } from '@cvd/kafka';
import { encodeBar } from '@cvd/schemas';
import type { Counter, Histogram } from 'prom-client';

/** The metrics a {@link BarPublisher} updates (registered in `metrics.ts`). */
export interface BarPublisherMetrics {
  /** Records acknowledged by Kafka, by `final`. */
  readonly published: Counter<'final'>;
  /** Records given up, by `reason` (`send`, `overflow`, `encode`). */
  readonly failures: Counter<'reason'>;
  /** Ingest receipt of the newest trade in a bar → its record acknowledged by Kafka. */
  readonly lag: Histogram;
}

export interface BarPublisherOptions {
  kafka: Pick<Kafka, 'producer'>;
  /** `cvd.bars.v1` (`TOPIC_BARS`). */
  topic: string;
  logger: Logger;
  metrics: BarPublisherMetrics;
  /** At most one publish of a symbol's forming bars per this many ms (final bars go at once). */
  intervalMs: number;
  /** Wait this long after the first queued record to gather a send. @defaultValue 2 */
  lingerMs?: number;
  /** Records per send (a bar record is ~300 bytes: well under the broker's 1 MiB). @defaultValue 1000 */
  maxBatch?: number;
  /** Records waiting for Kafka beyond this are dropped (counted, logged): a slow broker must not grow memory. @defaultValue 100000 */
  maxQueued?: number;
  now?: () => number;
}

/** One symbol's throttle state. */
interface SymbolState {
  /** `market:SYMBOL`, the record key (the trades' key: same partitioner, same partitioning). */
  readonly key: string;
  /** Wall time of the last publish of this symbol's forming bars. */
  lastFormingMs: number;
  /** Forming bars changed since that publish, latest version per minute, with their receipt time. */
  readonly pending: Map<number, { row: BarRow; receivedAtMs: number }>;
  /** Max receipt time of the trades applied so far, per forming minute (forgotten when it turns final). */
  readonly received: Map<number, number>;
}

interface Queued {
  key: string;
  value: Buffer;
  final: boolean;
  receivedAtMs: number;
}

/**
 * Publishes every changed bar to `cvd.bars.v1` as a live feed (DESIGN: bars as a stream).
 *
 * - **Throttle per symbol**: a symbol's forming bars are published at most once per
 *   `intervalMs` (leading edge: a quiet symbol's first change goes at once; changes inside the
 *   interval are coalesced and the latest values published when it ends). Final bars (and
 *   revisions of final bars) are published at once and replace a pending forming version.
 * - **Never in the way of QuestDB**: `offer` is synchronous and never waits for Kafka; sends
 *   run one at a time (per-key order = offer order) with `acks=1`, a few bounded kafkajs
 *   retries, then the records are dropped, counted in `failures` and logged rate-limited.
 *   Each record carries the whole bar, so the next update of a bar repairs a dropped one.
 * - `receivedAtMs` = max ingest receipt time of the trades applied to the bar (the caller
 *   reports it per symbol and minute for each batch; the publisher keeps it per forming
 *   minute), so a bar turned final by the watermark carries its own trades' time; 0 when
 *   unknown (a bar whose trades all came before the snapshot it was restored from).
 *   `emittedAtMs` = wall time when the record left the throttle.
 */
export class BarPublisher {
  private readonly producer: Producer;
  private readonly symbols = new Map<string, SymbolState>();
  /** Symbols with pending forming bars waiting for their interval to end. */
  private readonly waiting = new Set<SymbolState>();
  private waitTimer: NodeJS.Timeout | undefined;
  private waitTimerAt = Infinity;
  private queue: Queued[] = [];
  private lingerTimer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private connected = false;
  private closed = false;
  private readonly rl: RateLimitedLog;
  private readonly now: () => number;
  private readonly lingerMs: number;
  private readonly maxBatch: number;
  private readonly maxQueued: number;
  /** Timer slack: symbols due within it are released together (fewer wake-ups, ≤ this much later). */
  private readonly slackMs: number;

  constructor(private readonly o: BarPublisherOptions) {
    this.now = o.now ?? Date.now;
    this.lingerMs = o.lingerMs ?? 2;
    this.maxBatch = o.maxBatch ?? 1000;
    this.maxQueued = o.maxQueued ?? 100_000;
    this.slackMs = Math.min(10, Math.floor(o.intervalMs / 10));
    this.rl = new RateLimitedLog(o.logger, { intervalMs: 10_000 });
    this.producer = o.kafka.producer({
      // A live feed: leader acks, a short bounded retry, then the record is given up.
      idempotent: false,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 2 },
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /** Records waiting for Kafka (for tests and health). */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Bars that just changed (one batch of the engine's upserts). `receivedAtMs(row)` gives the
   * max receipt time of the batch's trades of the row's symbol and minute, or undefined when
   * there were none.
   */
  offer(rows: readonly BarRow[], receivedAtMs: (row: BarRow) => number | undefined = () => undefined): void {
    if (this.closed || rows.length === 0) return;
    const now = this.now();
    let touched: SymbolState[] | undefined;
    for (const row of rows) {
      const s = this.symbol(row);
      const inBatch = receivedAtMs(row);
      const known = s.received.get(row.ts);
      const r = inBatch === undefined ? (known ?? 0) : known !== undefined && known > inBatch ? known : inBatch;
      if (row.final) s.received.delete(row.ts);
      else s.received.set(row.ts, r);
      if (row.final) {
        s.pending.delete(row.ts);
        this.emit(s.key, row, r, now);
      } else {
        s.pending.set(row.ts, { row, receivedAtMs: r });
        (touched ??= []).push(s);
      }
    }
    for (const s of touched ?? []) {
      if (s.pending.size === 0 || this.waiting.has(s)) continue;
      if (now - s.lastFormingMs >= this.o.intervalMs) this.release(s, now);
      else this.wait(s, now);
    }
  }

  private symbol(row: BarRow): SymbolState {
    const key = symbolKey(row.market, row.symbol);
    let s = this.symbols.get(key);
    if (!s) {
      s = { key, lastFormingMs: -Infinity, pending: new Map(), received: new Map() };
      this.symbols.set(key, s);
    }
    return s;
  }

  /** Publishes a symbol's pending forming bars now. */
  private release(s: SymbolState, now: number): void {
    for (const { row, receivedAtMs } of s.pending.values()) this.emit(s.key, row, receivedAtMs, now);
    s.pending.clear();
    s.lastFormingMs = now;
    this.waiting.delete(s);
  }

  private wait(s: SymbolState, now: number): void {
    this.waiting.add(s);
    this.armWaitTimer(s.lastFormingMs + this.o.intervalMs, now);
  }

  private armWaitTimer(due: number, now: number): void {
    const at = due + this.slackMs;
    if (at >= this.waitTimerAt) return;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimerAt = at;
    this.waitTimer = setTimeout(() => this.releaseDue(), Math.max(1, at - now));
  }

  private releaseDue(): void {
    this.waitTimer = undefined;
    this.waitTimerAt = Infinity;
    if (this.closed) return;
    const now = this.now();
    let next = Infinity;
    for (const s of [...this.waiting]) {
      const due = s.lastFormingMs + this.o.intervalMs;
      if (due <= now) this.release(s, now);
      else next = Math.min(next, due);
    }
    if (next < Infinity) this.armWaitTimer(next, now);
  }

  private emit(key: string, row: BarRow, receivedAtMs: number, now: number): void {
    if (this.queue.length >= this.maxQueued) {
      this.o.metrics.failures.inc({ reason: 'overflow' });
      this.rl.warn('bars-overflow', { queued: this.queue.length, topic: this.o.topic }, 'bar stream: Kafka is behind; dropping bar updates');
      return;
    }
    let value: Buffer;
    try {
      value = encodeBar({ ...row, receivedAtMs, emittedAtMs: now });
    } catch (err) {
      this.o.metrics.failures.inc({ reason: 'encode' });
      this.rl.error('bars-encode', { err, key, ts: row.ts }, 'bar stream: bar not encodable; not published');
      return;
    }
    this.queue.push({ key, value, final: row.final, receivedAtMs });
    this.kick();
  }

  private kick(): void {
    if (this.sending || this.lingerTimer || !this.connected) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.sending ??= this.drain().finally(() => {
        this.sending = undefined;
        if (this.queue.length) this.kick();
      });
    }, this.lingerMs);
  }

  private async drain(): Promise<void> {
    while (this.queue.length && this.connected) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.producer.send({ topic: this.o.topic, acks: 1, messages: batch.map((q) => ({ key: q.key, value: q.value })) });
        const acked = Date.now();
        let finals = 0;
        for (const q of batch) {
          if (q.final) finals++;
          if (q.receivedAtMs > 0) this.o.metrics.lag.observe(Math.max(0, acked - q.receivedAtMs) / 1000);
        }
        if (finals) this.o.metrics.published.inc({ final: 'true' }, finals);
        if (batch.length > finals) this.o.metrics.published.inc({ final: 'false' }, batch.length - finals);
      } catch (err) {
        this.o.metrics.failures.inc({ reason: 'send' }, batch.length);
        this.rl.warn('bars-send', { err, records: batch.length, topic: this.o.topic }, 'bar stream: publish failed; these bar updates are dropped (the next update of each bar carries it whole)');
      }
    }
  }

  /** Publishes what is pending (throttle ends early), waits up to `timeoutMs` for Kafka, disconnects. Idempotent. */
  async close(timeoutMs = 3_000): Promise<void> {
    if (this.closed) return;
    const now = this.now();
    for (const s of [...this.waiting]) this.release(s, now);
    this.closed = true;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    if (this.connected) {
      this.sending ??= this.drain().finally(() => {
        this.sending = undefined;
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.sending, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      if (this.queue.length) this.o.logger.warn({ unsent: this.queue.length }, 'bar stream: closing with unpublished bar updates');
      this.connected = false;
      this.queue = [];
    }
    await this.producer.disconnect().catch(() => undefined);
  }
}
