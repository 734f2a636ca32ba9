import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Backoff, RateLimitedLog, type Logger } from '@cvd/common';
import { topicOffsets, type Consumer, type Kafka } from '@cvd/kafka';
import { decodeBar, type BarRecord } from '@cvd/schemas';
import type { StreamBar } from './bar-hub.js';

/** A `Bar` v1 record as `/api/stream` pushes it: the `/api/bars` row shape (DOUBLE columns as numbers). */
export function streamBarOf(r: BarRecord): StreamBar {
  return {
    market: r.market,
    symbol: r.symbol,
    ts: new Date(r.ts).toISOString(),
    time: r.ts / 1000,
    open: Number(r.open),
    high: Number(r.high),
    low: Number(r.low),
    close: Number(r.close),
    volume: Number(r.volume),
    buy_volume: Number(r.buyVolume),
    sell_volume: Number(r.sellVolume),
    delta: Number(r.delta),
    cvd_open: Number(r.cvdOpen),
    cvd_high: Number(r.cvdHigh),
    cvd_low: Number(r.cvdLow),
    cvd_close: Number(r.cvdClose),
    cvd_close_exact: r.cvdClose,
    trades: r.trades,
    final: r.final,
    last_agg_id: r.lastAggId,
  };
}

/** A consumer group of its own per web process: every process sees every bar. */
export function privateGroupId(): string {
  return `cvd-web-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export interface BarStreamMetrics {
  /** Records decoded and handed on. */
  records(n: number): void;
  /** Records that did not decode, by reason (the schema error code, or `empty`). */
  decodeFailure(reason: string): void;
}

export interface BarStreamOptions {
  kafka: Kafka;
  /** `cvd.bars.v1` (`TOPIC_BARS`). */
  topic: string;
  logger: Logger;
  /** Each consumed batch's decoded bars, in offset order. */
  onBars(bars: StreamBar[]): void;
  /** Once positioned at the end after every assignment (the first, a rejoin, a rebalance, a restart): bars may have been missed. */
  onResync(reason: string): void;
  metrics?: BarStreamMetrics;
  /** @defaultValue {@link privateGroupId}() */
  groupId?: string;
}

/**
 * The live bar feed of the web service: a kafkajs consumer on `cvd.bars.v1` in a private,
 * never-committing group, positioned at the **end** of every partition on each assignment
 * (live only: history is QuestDB's). Every record is decoded as `Bar` v1; one that does not
 * decode is counted and logged (rate-limited), never fatal.
 *
 * Missed bars are possible after a rejoin/rebalance, a crash-and-restart or a reconnect (and
 * for clients that connected before the first assignment): every assignment calls `onResync`
 * once positioned, so the page refetches its history.
 * A consumer that cannot connect or crashes for good is rebuilt with a capped backoff until
 * {@link stop}; the service keeps serving history meanwhile.
 */
export class BarStream {
  readonly groupId: string;
  private consumer: Consumer | undefined;
  private stopped = false;
  private joins = 0;
  private positioned = false;
  private lastError: string | undefined;
  private loop: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;
  private readonly rl: RateLimitedLog;
  private readyResolve!: () => void;
  /** Resolves once the first assignment is positioned at the end: every record produced after it is delivered. */
  readonly ready: Promise<void>;

  constructor(private readonly o: BarStreamOptions) {
    this.groupId = o.groupId ?? privateGroupId();
    this.rl = new RateLimitedLog(o.logger, { intervalMs: 10_000 });
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
  }

  /** For `/health`: joined and positioned, or why not. */
  status(): { healthy: boolean; detail?: string } {
    if (this.positioned) return { healthy: true };
    return { healthy: false, detail: this.lastError ?? `not yet consuming ${this.o.topic}` };
  }

  /** Starts consuming in the background (retries until {@link stop}); returns at once. */
  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
    while (!this.stopped) {
      let crashed!: () => void;
      const gone = new Promise<void>((resolve) => (crashed = resolve));
      try {
        await this.startConsumer(crashed);
        backoff.reset();
        await gone; // until a crash kafkajs does not restart, or stop()
      } catch (err) {
        this.lastError = `consuming ${this.o.topic} failed: ${(err as Error).message}`;
        this.rl.warn('bar-stream-start', { err, topic: this.o.topic }, 'bar stream: consumer failed; retrying');
      }
      this.positioned = false;
      const c = this.consumer;
      this.consumer = undefined;
      await c?.disconnect().catch(() => undefined);
      if (this.stopped) return;
      const delay = backoff.next();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wakeLoop = () => (clearTimeout(t), resolve());
      });
      this.wakeLoop = undefined;
      // The next consumer starts at the end again (whatever was produced meanwhile is missed):
      // its first assignment counts as a rejoin, so clients resync once it is positioned.
    }
  }

  private async startConsumer(crashed: () => void): Promise<void> {
    const { kafka, topic, logger } = this.o;
    const consumer = kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 250,
      maxBytesPerPartition: 4 * 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.REBALANCING, () => {
      this.positioned = false;
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => void this.onJoin(consumer, [...(e.payload.memberAssignment[topic] ?? [])]));
    consumer.on(consumer.events.CRASH, (e) => {
      this.positioned = false;
      this.lastError = `consumer crashed: ${String((e.payload.error as Error | undefined)?.message ?? e.payload.error)}`;
      logger.warn({ err: e.payload.error, restart: e.payload.restart }, 'bar stream: Kafka consumer crashed');
      if (!e.payload.restart) crashed();
    });
    consumer.on(consumer.events.STOP, () => crashed());
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }) => this.onBatch(batch.messages),
    });
  }

  /** Every assignment starts at the current end; each one after the first is a resync. */
  private async onJoin(consumer: Consumer, partitions: number[]): Promise<void> {
    this.joins++;
    const first = this.joins === 1;
    try {
      const offsets = await topicOffsets(this.o.kafka, this.o.topic);
      if (consumer !== this.consumer || this.stopped) return;
      for (const o of offsets) if (partitions.includes(o.partition)) consumer.seek({ topic: this.o.topic, partition: o.partition, offset: o.high });
      this.positioned = true;
      this.lastError = undefined;
      this.o.logger.info({ topic: this.o.topic, partitions: partitions.length, group: this.groupId }, first ? 'bar stream: consuming from the end' : 'bar stream: reassigned; clients resync');
      this.readyResolve();
      // Also on the first one: a client that connected before (and loaded its history) may
      // have missed what was produced until now.
      this.o.onResync(first ? 'positioned' : 'rejoined');
    } catch (err) {
      this.lastError = `reading the end offsets of ${this.o.topic} failed: ${(err as Error).message}`;
      this.rl.warn('bar-stream-offsets', { err }, 'bar stream: could not position at the end; clients resync');
      if (!first) this.o.onResync('rejoined');
    }
  }

  private onBatch(messages: readonly { value: Buffer | null; offset: string }[]): void {
    const bars: StreamBar[] = [];
    for (const m of messages) {
      if (!m.value) {
        this.o.metrics?.decodeFailure('empty');
        continue;
      }
      const r = decodeBar(m.value);
      if (r.ok) bars.push(streamBarOf(r.value));
      else {
        this.o.metrics?.decodeFailure(r.error.code);
        this.rl.warn(`bar-decode-${r.error.code}`, { err: r.error, offset: m.offset, topic: this.o.topic }, 'bar stream: record does not decode as Bar; skipped');
      }
    }
    if (bars.length) {
      this.o.metrics?.records(bars.length);
      this.o.onBars(bars);
    }
  }

  /** Stops consuming; bounded by `timeoutMs`. Idempotent. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.stopped = true;
    this.wakeLoop?.();
    const c = this.consumer;
    let timer: NodeJS.Timeout | undefined;
    const bounded = Promise.race([
      (async () => {
        await c?.disconnect().catch(() => undefined);
        await this.loop;
      })(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    await bounded.finally(() => clearTimeout(timer));
  }
}
