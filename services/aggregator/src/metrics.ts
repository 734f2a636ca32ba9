import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Buckets (seconds) fine enough at the low end for p50/p99/p99.9 of ingest → apply latency. */
export const INGEST_TO_APPLY_BUCKETS = [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30];

export function aggregatorMetrics(registry: Registry, options: { latency?: boolean } = {}) {
  return {
    /** Opt-in (`AGGREGATOR_LATENCY_METRICS`): one observation per applied trade. */
    ingestToApply: options.latency
      ? new Histogram({ name: 'cvd_aggregator_ingest_to_apply_seconds', help: 'ingest receipt (receivedAtMs) to applied in the aggregator, per trade', buckets: INGEST_TO_APPLY_BUCKETS, registers: [registry] })
      : undefined,
    records: new Counter({ name: 'cvd_aggregator_records_total', help: 'Kafka records consumed', labelNames: ['partition'], registers: [registry] }),
    trades: new Counter({ name: 'cvd_aggregator_trades_applied_total', help: 'aggTrades applied to bars', registers: [registry] }),
    duplicates: new Counter({ name: 'cvd_aggregator_duplicates_total', help: 'aggTrades dropped as duplicates', registers: [registry] }),
    lateRevisions: new Counter({ name: 'cvd_aggregator_late_revisions_total', help: 'late aggTrades that revised a final bar', registers: [registry] }),
    lateBeyondHorizon: new Counter({ name: 'cvd_aggregator_late_beyond_horizon_total', help: 'aggTrades older than the revision horizon (dead-lettered)', registers: [registry] }),
    tooOld: new Counter({ name: 'cvd_aggregator_too_old_trades_total', help: 'aggTrades refused as too old (beyond-horizon, settled-id) and dead-lettered, per symbol (only symbols that had one); a replay of history into a used stack: run `cvd stack reset`', labelNames: ['market', 'symbol', 'reason'], registers: [registry] }),
    deadLetters: new Counter({ name: 'cvd_aggregator_dead_letters_total', help: 'records sent to the dead-letter topic', labelNames: ['reason'], registers: [registry] }),
    producerRefused: new Counter({
      name: 'cvd_aggregator_producer_refused_total',
      help: 'dead letters Kafka refused for good, by topic, reason (too-large | invalid-record | not-authorised | invalid-topic) and outcome (truncated | dropped)',
      labelNames: ['topic', 'reason', 'outcome'],
      registers: [registry],
    }),
    barsWritten: new Counter({ name: 'cvd_aggregator_bars_written_total', help: 'bar rows acknowledged by QuestDB', registers: [registry] }),
    writeFailures: new Counter({ name: 'cvd_aggregator_questdb_write_failures_total', help: 'failed QuestDB writes (retried)', registers: [registry] }),
    flushSeconds: new Histogram({ name: 'cvd_aggregator_flush_seconds', help: 'time to write a flush to QuestDB', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] }),
    snapshots: new Counter({ name: 'cvd_aggregator_snapshots_total', help: 'partition snapshots written', registers: [registry] }),
    snapshotBytes: new Gauge({ name: 'cvd_aggregator_snapshot_bytes', help: 'size of the last snapshot per partition', labelNames: ['partition'], registers: [registry] }),
    restores: new Counter({ name: 'cvd_aggregator_restores_total', help: 'partition states restored after an assignment', labelNames: ['from'], registers: [registry] }),
    lag: new Gauge({ name: 'cvd_aggregator_consumer_lag', help: 'records behind the partition high watermark', labelNames: ['partition'], registers: [registry] }),
    pendingRows: new Gauge({ name: 'cvd_aggregator_pending_rows', help: 'bar rows waiting for QuestDB', registers: [registry] }),
    assigned: new Gauge({ name: 'cvd_aggregator_assigned_partitions', help: 'partitions owned by this replica', registers: [registry] }),
    missingIds: new Gauge({ name: 'cvd_aggregator_missing_agg_ids', help: 'agg ids missing in the bars last written, per market', labelNames: ['market'], registers: [registry] }),
    barsPublished: new Counter({ name: 'cvd_aggregator_bars_published_total', help: 'bar updates acknowledged by Kafka on the bar stream (cvd.bars.v1)', labelNames: ['final'], registers: [registry] }),
    barPublishFailures: new Counter({ name: 'cvd_aggregator_bar_publish_failures_total', help: 'bar updates given up on the bar stream (send failed, queue overflow, not encodable)', labelNames: ['reason'], registers: [registry] }),
    barPublishLag: new Histogram({ name: 'cvd_aggregator_bar_publish_lag_seconds', help: 'ingest receipt of the newest trade in a bar to its bar-stream record acknowledged by Kafka (throttle wait included)', buckets: INGEST_TO_APPLY_BUCKETS, registers: [registry] }),
    rebalances: new Counter({ name: 'cvd_aggregator_rebalances_total', help: 'consumer group rebalances seen', registers: [registry] }),
  };
}
export type AggregatorMetrics = ReturnType<typeof aggregatorMetrics>;
