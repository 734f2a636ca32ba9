import { createMetricsRegistry, type HealthReport, type Logger } from '@cvd/common';
import { createKafka, ensureTopics, kafkaSettingsFromEnv, pipelineTopics, topicNamesFromEnv } from '@cvd/kafka';
import { BarWriter, barTableDdl, ensureViews, QuestDbSql, questdbSettingsFromEnv } from '@cvd/questdb';
import { Backoff, isRetriable, retry } from '@cvd/common';
import type { Registry } from 'prom-client';
import { Aggregator } from './aggregator.js';
import type { AggregatorEnv } from './env.js';
import { aggregatorMetrics } from './metrics.js';

export interface RunningAggregator {
  aggregator: Aggregator;
  registry: Registry;
  env: AggregatorEnv;
  /** What `/health` answers (served by `bootService` in `main.ts`). */
  health(): HealthReport;
  stop(): Promise<void>;
}

/** Options of {@link startAggregator}. */
export interface StartAggregatorOptions {
  /** The environment, parsed once by the caller (`bootService` in `main.ts`, or `parseAggregatorEnv`). */
  readonly env: AggregatorEnv;
  readonly logger: Logger;
  /** Where the metrics are registered. @defaultValue a fresh `createMetricsRegistry('aggregator')` */
  readonly registry?: Registry;
  /** `bootService`'s `fail`: a failure the aggregator cannot recover from while running (log, stop, exit 1). */
  readonly fail?: (err: Error) => void;
}

/** Creates the bar table, waiting (with the project's one retry policy) for QuestDB to come up. */
async function ensureBarTable(sql: QuestDbSql, table: string, logger: Logger, signal: { stopped: boolean }): Promise<void> {
  await retry(() => sql.exec(barTableDdl(table)), {
    backoff: new Backoff({ initialMs: 500, maxMs: 5_000 }),
    // QuestDbError says whether another attempt may help (QuestDB down or starting: yes).
    shouldRetry: (err) => !signal.stopped && isRetriable(err),
    onRetry: ({ err, delayMs }) => logger.warn({ err, retryInMs: delayMs }, 'QuestDB not ready; retrying table creation'),
  });
}

/**
 * Starts the aggregator from a parsed environment: topics and the bar table are created if
 * absent, then the consumer joins the group. `/health` and `/metrics` are served by the
 * caller (`bootService` in `main.ts`) from {@link RunningAggregator.health} and the registry.
 */
export async function startAggregator(options: StartAggregatorOptions): Promise<RunningAggregator> {
  const { env, logger } = options;
  const registry = options.registry ?? createMetricsRegistry('aggregator');
  const metrics = aggregatorMetrics(registry, { latency: env.AGGREGATOR_LATENCY_METRICS });
  const topics = topicNamesFromEnv(env);
  const kafka = createKafka(kafkaSettingsFromEnv(env, `cvd-aggregator-${env.AGGREGATOR_INSTANCE_ID}`), logger);
  const qdb = questdbSettingsFromEnv(env);
  const signal = { stopped: false };
  await ensureTopics(kafka, pipelineTopics(topics, env.TRADES_PARTITIONS), logger);
  await ensureBarTable(new QuestDbSql(qdb), env.AGGREGATOR_BAR_TABLE, logger, signal);
  // 5m…1d bars as materialized views over the bar table (QuestDB is up: the table was just created).
  await ensureViews(new QuestDbSql(qdb), env.AGGREGATOR_BAR_TABLE);
  const aggregator = new Aggregator({
    kafka,
    writer: new BarWriter(qdb, { table: env.AGGREGATOR_BAR_TABLE }),
    logger,
    metrics,
    topics: { trades: topics.trades, deadLetter: topics.deadLetter, state: topics.aggregatorState, symbols: topics.symbols },
    groupId: env.AGGREGATOR_GROUP_ID,
    engine: { graceMs: env.AGGREGATOR_GRACE, horizonMs: env.AGGREGATOR_REVISION_HORIZON, holeHoldMs: env.AGGREGATOR_HOLE_HOLD },
    flushIntervalMs: env.AGGREGATOR_FLUSH_INTERVAL,
    formingWriteIntervalMs: env.AGGREGATOR_FORMING_WRITE_INTERVAL,
    barStream: env.AGGREGATOR_BAR_STREAM ? { topic: topics.bars, intervalMs: env.AGGREGATOR_BAR_PUSH_INTERVAL } : undefined,
    snapshotIntervalMs: env.AGGREGATOR_SNAPSHOT_INTERVAL,
    idleAfterMs: env.AGGREGATOR_IDLE_AFTER,
    maxPendingRows: env.AGGREGATOR_MAX_PENDING_ROWS,
    sessionTimeoutMs: env.AGGREGATOR_SESSION_TIMEOUT,
    kafkaSendGiveUpMs: env.KAFKA_SEND_GIVE_UP,
    ...(options.fail ? { onFatal: options.fail } : {}),
  });
  await aggregator.start();
  logger.info({ group: env.AGGREGATOR_GROUP_ID, table: env.AGGREGATOR_BAR_TABLE, topics }, 'aggregator started');
  let stopped: Promise<void> | undefined;
  return {
    aggregator,
    registry,
    env,
    health: () => {
      const h = aggregator.health();
      return { healthy: h.healthy, checks: { consumer: { healthy: h.healthy, detail: JSON.stringify(h.details) } }, tooOldTrades: h.details.tooOldTrades };
    },
    stop: () =>
      (stopped ??= (async () => {
        signal.stopped = true;
        await aggregator.stop();
        logger.info('aggregator stopped');
      })()),
  };
}
