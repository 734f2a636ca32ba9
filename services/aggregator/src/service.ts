import { createLogger, createMetricsRegistry, startOpsServer, type Logger, type OpsServer } from '@cvd/common';
import { createKafka, ensureTopics, kafkaSettingsFromEnv, pipelineTopics, topicNamesFromEnv } from '@cvd/kafka';
import { BarWriter, barTableDdl, ensureViews, QuestDbSql, questdbSettingsFromEnv } from '@cvd/questdb';
import { Backoff, sleep } from '@cvd/common';
import type { Registry } from 'prom-client';
import { Aggregator } from './aggregator.js';
import { parseAggregatorEnv, type AggregatorEnv } from './env.js';
import { aggregatorMetrics } from './metrics.js';

export interface RunningAggregator {
  aggregator: Aggregator;
  registry: Registry;
  ops: OpsServer;
  env: AggregatorEnv;
  stop(): Promise<void>;
}

/** Creates the bar table, waiting (with backoff) for QuestDB to come up. */
async function ensureBarTable(sql: QuestDbSql, table: string, logger: Logger, signal: { stopped: boolean }): Promise<void> {
  const backoff = new Backoff({ initialMs: 500, maxMs: 5_000 });
  for (;;) {
    try {
      await sql.exec(barTableDdl(table));
      return;
    } catch (err) {
      if (signal.stopped || !(err as { retriable?: boolean }).retriable) throw err;
      const wait = backoff.next();
      logger.warn({ err, retryInMs: wait }, 'QuestDB not ready; retrying table creation');
      await sleep(wait);
    }
  }
}

/**
 * Starts the aggregator from an environment (process.env by default): topics and the bar table
 * are created if absent, then the consumer joins the group. Used by `main.ts`, the CLI and tests.
 */
export async function startAggregator(options: { env?: NodeJS.ProcessEnv; logger?: Logger } = {}): Promise<RunningAggregator> {
  const env = parseAggregatorEnv(options.env ?? process.env);
  const logger = options.logger ?? createLogger({ service: 'aggregator', level: env.LOG_LEVEL });
  const registry = createMetricsRegistry('aggregator');
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
    engine: { graceMs: env.AGGREGATOR_GRACE, horizonMs: env.AGGREGATOR_REVISION_HORIZON },
    flushIntervalMs: env.AGGREGATOR_FLUSH_INTERVAL,
    snapshotIntervalMs: env.AGGREGATOR_SNAPSHOT_INTERVAL,
    idleAfterMs: env.AGGREGATOR_IDLE_AFTER,
    maxPendingRows: env.AGGREGATOR_MAX_PENDING_ROWS,
    sessionTimeoutMs: env.AGGREGATOR_SESSION_TIMEOUT,
  });
  const ops = await startOpsServer({
    host: env.OPS_HOST,
    port: env.OPS_PORT,
    registry,
    logger,
    health: () => {
      const h = aggregator.health();
      return { healthy: h.healthy, checks: { consumer: { healthy: h.healthy, detail: JSON.stringify(h.details) } } };
    },
  });
  await aggregator.start();
  logger.info({ ops: ops.url, group: env.AGGREGATOR_GROUP_ID, table: env.AGGREGATOR_BAR_TABLE, topics }, 'aggregator started');
  let stopped: Promise<void> | undefined;
  return {
    aggregator,
    registry,
    ops,
    env,
    stop: () =>
      (stopped ??= (async () => {
        signal.stopped = true;
        await aggregator.stop();
        await ops.close();
        logger.info('aggregator stopped');
      })()),
  };
}
