/**
 * Where ingest writes: `cvd.trades.v1` (key `market:SYMBOL`, Avro `AggTrade`) and the dead-letter
 * topic, both through one idempotent {@link BatchingProducer} (per-key order = enqueue order).
 */
import type { Logger } from '@cvd/common';
import { BatchingProducer, type Kafka } from '@cvd/kafka';
import type { AggTrade, Market } from '@cvd/core';
import { encodeTrade, key } from '@cvd/schemas';

export interface TradeSink {
  publishTrade(trade: AggTrade): void;
  /** Raw bytes with headers `reason`, `market`, `source: ingest` and any extra ones. */
  deadLetter(market: Market, raw: Buffer, reason: string, extraHeaders?: Record<string, string>): void;
}

export interface ProducerState {
  readonly connected: boolean;
  readonly buffered: number;
  readonly lastError: string | undefined;
  readonly lastErrorAtMs: number | undefined;
  readonly lastSentAtMs: number | undefined;
}

export class KafkaTradeSink implements TradeSink {
  readonly #producer: BatchingProducer;
  readonly #topics: { readonly trades: string; readonly deadLetter: string };
  #connected = false;
  #lastError: string | undefined;
  #lastErrorAt: number | undefined;
  #lastSentAt: number | undefined;

  constructor(kafka: Kafka, options: { topics: { trades: string; deadLetter: string }; logger: Logger; onError?: (err: unknown) => void }) {
    this.#topics = options.topics;
    this.#producer = new BatchingProducer(kafka, {
      logger: options.logger.child({ component: 'producer' }),
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
      buffered: this.#producer.buffered,
      lastError: this.#lastError,
      lastErrorAtMs: this.#lastErrorAt,
      lastSentAtMs: this.#lastSentAt,
    };
  }

  publishTrade(trade: AggTrade): void {
    this.#producer.enqueue(this.#topics.trades, [{ key: key(trade.market, trade.symbol), value: encodeTrade(trade) }]);
  }

  deadLetter(market: Market, raw: Buffer, reason: string, extraHeaders: Record<string, string> = {}): void {
    this.#producer.enqueue(this.#topics.deadLetter, [
      { key: market, value: raw, headers: { ...extraHeaders, reason, market, source: 'ingest' } },
    ]);
  }

  flush(): Promise<void> {
    return this.#producer.flush();
  }

  /** Sends what is queued (bounded), then disconnects. */
  async close(timeoutMs?: number): Promise<void> {
    await this.#producer.close(timeoutMs);
    this.#connected = false;
  }
}
