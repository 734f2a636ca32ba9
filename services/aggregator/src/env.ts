import { hostname } from 'node:os';
import { z } from 'zod';
import { envBoolean, envDuration, envLogLevel, envPort, parseEnv, type EnvSource } from '@cvd/common';
import { kafkaEnvShape } from '@cvd/kafka';
import { questdbEnvShape } from '@cvd/questdb';

/**
 * Every variable the aggregator reads, parsed once at start-up; a bad value fails start-up
 * with one message naming each variable.
 */
export const AggregatorEnv = z.object({
  ...kafkaEnvShape,
  ...questdbEnvShape,
  /** Consumer group; all replicas share it. */
  AGGREGATOR_GROUP_ID: z.string().min(1).default('cvd-aggregator'),
  /** Bar table name. */
  AGGREGATOR_BAR_TABLE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('cvd_bars_1m'),
  /** A minute is final when the partition watermark passes its end plus this. */
  AGGREGATOR_GRACE: envDuration().default(5_000),
  /** How long final bars stay revisable by late trades. */
  AGGREGATOR_REVISION_HORIZON: envDuration().default(10 * 60_000),
  /**
   * How long (watermark time) past its normal finality a bar stays forming while an open agg-id
   * hole could hold trades of its minute (ingest still fetching them; engine README "Finality").
   * About ingest's backfill give-up time; capped at the revision horizon; 0 = no hold.
   */
  AGGREGATOR_HOLE_HOLD: envDuration().default(60_000),
  /** Flush cadence: final bars (and due snapshots) are written to QuestDB this often. */
  AGGREGATOR_FLUSH_INTERVAL: envDuration().default(500),
  /**
   * Forming bars that changed are written to QuestDB this often (and with every partition
   * snapshot); live charts get them from the bar stream. 0 = at every flush (the old cadence).
   */
  AGGREGATOR_FORMING_WRITE_INTERVAL: envDuration().default(5_000),
  /** Publish changed bars to `TOPIC_BARS` (cvd.bars.v1) for live charts. */
  AGGREGATOR_BAR_STREAM: envBoolean().default(true),
  /** At most one bar-stream publish of a symbol's forming bars per this interval (final bars at once); 100–250 ms. */
  AGGREGATOR_BAR_PUSH_INTERVAL: envDuration()
    .refine((ms) => ms >= 100 && ms <= 250, { message: 'expected a duration from 100ms to 250ms' })
    .default(100),
  /** Partition state is snapshotted (and offsets committed) this often. */
  AGGREGATOR_SNAPSHOT_INTERVAL: envDuration().default(5_000),
  /** After this long without records a partition's watermark advances with wall time. */
  AGGREGATOR_IDLE_AFTER: envDuration().default(1_000),
  /** Stop consuming while this many bar rows wait for QuestDB. */
  AGGREGATOR_MAX_PENDING_ROWS: z.coerce.number().int().min(100).default(50_000),
  /** Kafka group session timeout: how long a dead replica keeps its partitions. */
  AGGREGATOR_SESSION_TIMEOUT: envDuration().default(30_000),
  /** Opt-in histogram `cvd_aggregator_ingest_to_apply_seconds` (one observation per trade; for benchmarks). */
  AGGREGATOR_LATENCY_METRICS: envBoolean().default(false),
  AGGREGATOR_INSTANCE_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  OPS_PORT: envPort().default(9466),
  LOG_LEVEL: envLogLevel().default('info'),
});
export type AggregatorEnv = z.output<typeof AggregatorEnv>;

export function parseAggregatorEnv(env: EnvSource = process.env): AggregatorEnv {
  return parseEnv(AggregatorEnv, env);
}
