/**
 * Where ingest writes: `cvd.trades.v1` (key `market:SYMBOL`) and the dead-letter topic, both
 * through one idempotent {@link BatchingProducer} (per-key order = enqueue order).
 *
 * Trades are gathered per key for `lingerMs` (from the first trade of a round) and then sent as
 * one record per key: an `AggTradeBatch` when the key has several trades, a plain `AggTrade`
 * when it has one (so a quiet symbol's records read exactly as before). A key that reaches
 * `maxTrades` is handed over at once. Kafka and kafkajs cost per record, so under load this
 * cuts the producer's, the broker's and the aggregator's work per trade; a trade waits at most
 * `lingerMs` longer. Within a key, records are enqueued in publish order, so order is kept.
 */
import type { Logger } from '@cvd/common';
import { BatchingProducer, deadLetterOnRefusal, type Kafka, type OutMessage, type RefusalOutcome, type RefusalReason } from '@cvd/kafka';
import { checkTrade, type AggTrade, type Market } from '@cvd/core';
import { encodeTrade, encodeTradeBatch, key, SchemaError } from '@cvd/schemas';

export interface TradeSink {
  /** @throws SchemaError `invalid-value` (synchronously) when the trade breaks the schema. */
  publishTrade(trade: AggTrade): void;
  /** Raw bytes with headers `reason`, `market`, `source: ingest` and any extra ones. */
  deadLetter(market: Market, raw: Buffer, reason: string, extraHeaders?: Record<string, string>): void;
}

export interface ProducerState {
  readonly connected: boolean;
  /** Messages queued in the producer plus trades still gathered by the batcher. */
  readonly buffered: number;
  readonly lastError: string | undefined;
  readonly lastErrorAtMs: number | undefined;
  readonly lastSentAtMs: number | undefined;
}

export interface BatchOptions {
  /** Gathering time per round, ms (0 = until the end of the current event-loop turn). */
  readonly lingerMs: number;
  /** Trades per record at most (1 = every trade its own `AggTrade` record). */
  readonly maxTrades: number;
}

/**
 * Encodes one key's trades (already checked, one market:symbol) as one record value: a lone
 * trade as `AggTrade`, several as `AggTradeBatch` in ascending aggTrade id order (a late frame
 * that filled a hole is published after higher ids; inside one record it takes its place).
 */
export function encodeTradeRecord(trades: readonly AggTrade[]): Buffer {
  if (trades.length === 1) return encodeTrade(trades[0] as AggTrade);
  let ascending = true;
  for (let i = 1; i < trades.length && ascending; i++) ascending = (trades[i - 1] as AggTrade).aggId < (trades[i] as AggTrade).aggId;
  return encodeTradeBatch(ascending ? trades : [...trades].sort((a, b) => a.aggId - b.aggId));
}

/**
 * Per-key gathering of trades (pure apart from the timer it is given): `add` returns the
 * trades of a key that just reached `maxTrades`, `drain` everything gathered, key by key in
 * the order keys first appeared, trades in publish order.
 */
export class TradeBatcher {
  readonly #maxTrades: number;
  #pending = new Map<string, AggTrade[]>();
  #count = 0;

  constructor(maxTrades: number) {
    if (!Number.isInteger(maxTrades) || maxTrades < 1) throw new RangeError(`maxTrades must be an integer >= 1, got ${maxTrades}`);
    this.#maxTrades = maxTrades;
  }

  /** Trades gathered and not yet drained. */
  get size(): number {
    return this.#count;
  }

  /** Adds a trade under `k`; returns that key's full list when it reached `maxTrades` (removed from the batcher). */
  add(k: string, trade: AggTrade): AggTrade[] | undefined {
    let list = this.#pending.get(k);
    if (list === undefined) {
      list = [];
      this.#pending.set(k, list);
    }
    list.push(trade);
    this.#count += 1;
    if (list.length < this.#maxTrades) return undefined;
    this.#pending.delete(k);
    this.#count -= list.length;
    return list;
  }

  /** Everything gathered, per key; the batcher is empty afterwards. */
  drain(): [string, AggTrade[]][] {
    const out = [...this.#pending];
    this.#pending = new Map();
    this.#count = 0;
    return out;
  }
}

export class KafkaTradeSink implements TradeSink {
  readonly #producer: BatchingProducer;
  readonly #topics: { readonly trades: string; readonly deadLetter: string };
  readonly #batch: BatchOptions;
  readonly #batcher: TradeBatcher;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #closed = false;
  #connected = false;
  #lastError: string | undefined;
  #lastErrorAt: number | undefined;
  #lastSentAt: number | undefined;

  constructor(
    kafka: Kafka,
    options: {
      topics: { trades: string; deadLetter: string };
      logger: Logger;
      batch?: BatchOptions;
      onError?: (err: unknown) => void;
      /** Retriable send failures are given up after this long without an acknowledged send. @defaultValue 180000 */
      giveUpAfterMs?: number;
      /** The producer gave up (Kafka unreachable for `giveUpAfterMs`): the service exits non-zero. */
      onGiveUp?: (err: Error) => void;
      /** A record Kafka refused for good: its topic, the reason and what became of it (for the metric). */
      onRefused?: (topic: string, reason: RefusalReason, outcome: RefusalOutcome) => void;
    },
  ) {
    this.#topics = options.topics;
    this.#batch = options.batch ?? { lingerMs: 5, maxTrades: 500 };
    this.#batcher = new TradeBatcher(this.#batch.maxTrades);
    const logger = options.logger.child({ component: 'producer' });
    this.#producer = new BatchingProducer(kafka, {
      logger,
      ...(options.giveUpAfterMs === undefined ? {} : { giveUpAfterMs: options.giveUpAfterMs }),
      // A refused trades record or dead letter is dead-lettered truncated, then dropped: never retried.
      onRejected: deadLetterOnRefusal({ deadLetterTopic: options.topics.deadLetter, logger, ...(options.onRefused ? { count: options.onRefused } : {}) }),
      onGiveUp: (err) => {
        this.#lastError = err.message;
        this.#lastErrorAt = Date.now();
        if (options.onGiveUp) options.onGiveUp(err);
        else logger.error({ err }, err.message);
      },
      onSent: () => {
        this.#lastSentAt = Date.now();
        this.#lastError = undefined;
      },
      onError: (err) => {
        this.#lastError = err instanceof Error ? err.message : String(err);
        this.#lastErrorAt = Date.now();
        options.onError?.(err);
      },
    });
  }

  async connect(): Promise<void> {
    await this.#producer.connect();
    this.#connected = true;
  }

  get state(): ProducerState {
    return {
      connected: this.#connected,
      buffered: this.#producer.buffered + this.#batcher.size,
      lastError: this.#lastError,
      lastErrorAtMs: this.#lastErrorAt,
      lastSentAtMs: this.#lastSentAt,
    };
  }

  publishTrade(trade: AggTrade): void {
    if (this.#closed) throw new Error('the trade sink is closed');
    const problem = checkTrade(trade);
    if (problem !== undefined) throw new SchemaError('invalid-value', `cannot encode AggTrade: ${problem.code}: ${problem.reason}`);
    const k = key(trade.market, trade.symbol);
    const full = this.#batcher.add(k, trade);
    if (full !== undefined) {
      this.#producer.enqueue(this.#topics.trades, [{ key: k, value: encodeTradeRecord(full) }]);
      return;
    }
    if (this.#timer === undefined && this.#batcher.size > 0) {
      const fire = (): void => {
        this.#timer = undefined;
        this.#moveGathered();
      };
      this.#timer = this.#batch.lingerMs > 0 ? setTimeout(fire, this.#batch.lingerMs) : setImmediate(fire);
    }
  }

  /** Hands everything gathered to the producer: one record per key. */
  #moveGathered(): void {
    if (this.#timer !== undefined) {
      if (this.#batch.lingerMs > 0) clearTimeout(this.#timer as NodeJS.Timeout);
      else clearImmediate(this.#timer as NodeJS.Immediate);
      this.#timer = undefined;
    }
    if (this.#batcher.size === 0) return;
    const out: OutMessage[] = [];
    for (const [k, trades] of this.#batcher.drain()) out.push({ key: k, value: encodeTradeRecord(trades) });
    this.#producer.enqueue(this.#topics.trades, out);
  }

  deadLetter(market: Market, raw: Buffer, reason: string, extraHeaders: Record<string, string> = {}): void {
    this.#producer.enqueue(this.#topics.deadLetter, [
      { key: market, value: raw, headers: { ...extraHeaders, reason, market, source: 'ingest' } },
    ]);
  }

  /** Sends everything gathered and queued. */
  flush(): Promise<void> {
    this.#moveGathered();
    return this.#producer.flush();
  }

  /** Hands over what is gathered, sends what is queued (bounded by `timeoutMs`), then disconnects. */
  async close(timeoutMs?: number): Promise<void> {
    this.#moveGathered();
    this.#closed = true;
    await this.#producer.close(timeoutMs);
    this.#connected = false;
  }
}
