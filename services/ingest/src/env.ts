/**
 * The ingest service's environment, parsed once at start-up (zod). Every Binance URL, limit
 * and timing is here with Binance's documented value as the default (see BINANCE.md): they
 * change, so none of them is code.
 */
import { z } from 'zod';
import { MARKET_CONFIGS } from '@cvd/binance';
import type { Market } from '@cvd/core';
import { envDuration, envLogLevel, envPort, parseEnv, type EnvSource, type LogLevel } from '@cvd/common';
import { kafkaEnvShape, type KafkaEnv } from '@cvd/kafka';

const positiveInt = (max: number) => z.coerce.number({ error: `expected an integer 1-${max}` }).int().min(1).max(max);
const url = () => z.string().url({ error: 'expected a URL' }).transform((u) => u.replace(/\/+$/, ''));

/** 23 h 30 min: replace a connection well before Binance's forced 24 h disconnect. */
export const DEFAULT_CONNECTION_LIFETIME_MS = 23.5 * 3_600_000;

export const ingestEnvShape = {
  ...kafkaEnvShape,
  BINANCE_SPOT_WS_URL: url().default(MARKET_CONFIGS.spot.wsBaseUrl),
  BINANCE_USDM_WS_URL: url().default(MARKET_CONFIGS.usdm.wsBaseUrl),
  BINANCE_COINM_WS_URL: url().default(MARKET_CONFIGS.coinm.wsBaseUrl),
  BINANCE_SPOT_REST_URL: url().default(MARKET_CONFIGS.spot.restBaseUrl),
  BINANCE_USDM_REST_URL: url().default(MARKET_CONFIGS.usdm.restBaseUrl),
  BINANCE_COINM_REST_URL: url().default(MARKET_CONFIGS.coinm.restBaseUrl),
  /** Streams per websocket connection (Binance: 1024; one USD-M doc copy says 200). */
  INGEST_STREAMS_PER_CONNECTION: positiveInt(1024).default(1024),
  /** Client messages per second per connection, pongs and SUBSCRIBE included. */
  INGEST_SPOT_MESSAGES_PER_SECOND: positiveInt(1000).default(MARKET_CONFIGS.spot.clientMessagesPerSecond),
  INGEST_USDM_MESSAGES_PER_SECOND: positiveInt(1000).default(MARKET_CONFIGS.usdm.clientMessagesPerSecond),
  INGEST_COINM_MESSAGES_PER_SECOND: positiveInt(1000).default(MARKET_CONFIGS.coinm.clientMessagesPerSecond),
  /** Streams named in the connection URL; the rest are SUBSCRIBEd once open (URL length). */
  INGEST_URL_STREAMS: positiveInt(1024).default(100),
  /** Params per SUBSCRIBE/UNSUBSCRIBE request. */
  INGEST_SUBSCRIBE_BATCH: positiveInt(1024).default(50),
  INGEST_SILENCE_TIMEOUT: envDuration().default(60_000),
  INGEST_CONNECTION_LIFETIME: envDuration().default(DEFAULT_CONNECTION_LIFETIME_MS),
  /** How long old and new connection overlap once the new one's subscriptions are acknowledged. */
  INGEST_ROTATION_OVERLAP: envDuration().default(2_000),
  INGEST_RECONNECT_INITIAL: envDuration().default(250),
  INGEST_RECONNECT_MAX: envDuration().default(30_000),
  INGEST_BACKFILL_DELAY: envDuration().default(1_000),
  /** A hole larger than this is not fetched (counted unrecoverable, reason `too_large`). */
  INGEST_BACKFILL_MAX_IDS: positiveInt(100_000_000).default(200_000),
  INGEST_BACKFILL_CONCURRENCY: positiveInt(64).default(2),
  /** Attempts per hole when REST requests fail (429, 5xx, network) before giving up. */
  INGEST_BACKFILL_ATTEMPTS: positiveInt(100).default(5),
  /** A symbol whose last id did not move for this long (at least 8 × its mean gap) gets its tail probed over REST (0 = off). */
  INGEST_TAIL_SILENCE: envDuration().default(30_000),
  /** Longest wait between tail probes of a symbol that stays silent at the same id. */
  INGEST_TAIL_SILENCE_MAX: envDuration().default(15 * 60_000),
  /** Tail probes started per second at most (spreads 1,000+ symbols after a reconnect). */
  INGEST_TAIL_PROBES_PER_SECOND: positiveInt(1000).default(5),
  /** Tail probes start only while a market's REST weight used this window is below this share of its budget. */
  INGEST_TAIL_WEIGHT_SHARE: z.coerce.number({ error: 'expected a number in (0, 1]' }).gt(0).max(1).default(0.5),
  /** Records read back per trades partition at start to learn the last published id per symbol (0 = off). */
  INGEST_RESUME_TAIL_RECORDS: z.coerce.number({ error: 'expected an integer >= 0' }).int().min(0).max(10_000_000).default(10_000),
  INGEST_RESUME_TIMEOUT: envDuration().default(30_000),
  /** How long trades of one key are gathered into one `AggTradeBatch` record (0 = one event-loop turn). */
  INGEST_BATCH_LINGER: envDuration()
    .refine((ms) => ms <= 1_000, { error: 'expected a duration of at most 1s' })
    .default(5),
  /** Trades per record at most (1 = no batching: every trade its own `AggTrade` record). */
  INGEST_BATCH_MAX_TRADES: positiveInt(10_000).default(500),
  LOG_LEVEL: envLogLevel().default('info'),
  OPS_PORT: envPort().default(9464),
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
};

/** The zod schema of {@link ingestEnvShape}: what `bootService` parses. */
export const ingestEnvSchema = z.object(ingestEnvShape);
export type IngestEnv = z.output<typeof ingestEnvSchema>;

/** Everything about one market that the connection manager and backfill need. */
export interface MarketSettings {
  readonly wsBaseUrl: string;
  readonly restBaseUrl: string;
  readonly messagesPerSecond: number;
}

/** The service configuration derived from {@link IngestEnv}: what `startIngest` takes. */
export interface IngestConfig {
  readonly markets: Readonly<Record<Market, MarketSettings>>;
  readonly streamsPerConnection: number;
  readonly urlStreams: number;
  readonly subscribeBatch: number;
  readonly silenceTimeoutMs: number;
  readonly connectionLifetimeMs: number;
  readonly rotationOverlapMs: number;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  readonly backfillDelayMs: number;
  readonly backfillMaxIds: number;
  readonly backfillConcurrency: number;
  readonly backfillAttempts: number;
  /** Silence after which a symbol's tail is probed (ms, 0 = off); see `tail-prober.ts`. */
  readonly tailSilenceMs: number;
  readonly tailSilenceMaxMs: number;
  readonly tailProbesPerSecond: number;
  readonly tailWeightShare: number;
  readonly resumeTailRecords: number;
  readonly resumeTimeoutMs: number;
  /** Linger of the per-key trade batcher (ms). */
  readonly batchLingerMs: number;
  /** Trades per `cvd.trades.v1` record at most (1 = every trade its own record). */
  readonly batchMaxTrades: number;
  /**
   * `KAFKA_SEND_GIVE_UP`: Kafka sends failing this long (no acknowledged send) make ingest exit 1;
   * on restart it resumes from the last published ids and backfills the gap over REST.
   * @defaultValue 180000
   */
  readonly producerGiveUpMs?: number;
  readonly topics: { readonly trades: string; readonly symbols: string; readonly deadLetter: string };
  readonly tradesPartitions: number;
  readonly logLevel: LogLevel;
  readonly opsPort: number;
  readonly opsHost: string;
}

/**
 * Parses the environment; throws one `ConfigError('invalid-env')` listing every bad variable.
 * Returns the raw env (for Kafka settings) and the derived {@link IngestConfig}.
 */
export function parseIngestEnv(source: EnvSource = process.env): { env: IngestEnv & KafkaEnv; config: IngestConfig } {
  const env = parseEnv(ingestEnvSchema, source);
  return { env, config: configFromEnv(env) };
}

export function configFromEnv(env: IngestEnv): IngestConfig {
  return {
    markets: {
      spot: { wsBaseUrl: env.BINANCE_SPOT_WS_URL, restBaseUrl: env.BINANCE_SPOT_REST_URL, messagesPerSecond: env.INGEST_SPOT_MESSAGES_PER_SECOND },
      usdm: { wsBaseUrl: env.BINANCE_USDM_WS_URL, restBaseUrl: env.BINANCE_USDM_REST_URL, messagesPerSecond: env.INGEST_USDM_MESSAGES_PER_SECOND },
      coinm: { wsBaseUrl: env.BINANCE_COINM_WS_URL, restBaseUrl: env.BINANCE_COINM_REST_URL, messagesPerSecond: env.INGEST_COINM_MESSAGES_PER_SECOND },
    },
    streamsPerConnection: env.INGEST_STREAMS_PER_CONNECTION,
    urlStreams: env.INGEST_URL_STREAMS,
    subscribeBatch: env.INGEST_SUBSCRIBE_BATCH,
    silenceTimeoutMs: env.INGEST_SILENCE_TIMEOUT,
    connectionLifetimeMs: env.INGEST_CONNECTION_LIFETIME,
    rotationOverlapMs: env.INGEST_ROTATION_OVERLAP,
    reconnectInitialMs: env.INGEST_RECONNECT_INITIAL,
    reconnectMaxMs: env.INGEST_RECONNECT_MAX,
    backfillDelayMs: env.INGEST_BACKFILL_DELAY,
    backfillMaxIds: env.INGEST_BACKFILL_MAX_IDS,
    backfillConcurrency: env.INGEST_BACKFILL_CONCURRENCY,
    backfillAttempts: env.INGEST_BACKFILL_ATTEMPTS,
    tailSilenceMs: env.INGEST_TAIL_SILENCE,
    tailSilenceMaxMs: env.INGEST_TAIL_SILENCE_MAX,
    tailProbesPerSecond: env.INGEST_TAIL_PROBES_PER_SECOND,
    tailWeightShare: env.INGEST_TAIL_WEIGHT_SHARE,
    resumeTailRecords: env.INGEST_RESUME_TAIL_RECORDS,
    resumeTimeoutMs: env.INGEST_RESUME_TIMEOUT,
    batchLingerMs: env.INGEST_BATCH_LINGER,
    batchMaxTrades: env.INGEST_BATCH_MAX_TRADES,
    producerGiveUpMs: env.KAFKA_SEND_GIVE_UP,
    topics: { trades: env.TOPIC_TRADES, symbols: env.TOPIC_SYMBOLS, deadLetter: env.TOPIC_DEADLETTER },
    tradesPartitions: env.TRADES_PARTITIONS,
    logLevel: env.LOG_LEVEL,
    opsPort: env.OPS_PORT,
    opsHost: env.OPS_HOST,
  };
}
