import type { Kafka } from 'kafkajs';
import type { Logger } from '@cvd/common';
import { withKafkaRetry } from './retry.js';

/** Topic names of the contract (DESIGN §3); configurable, these are the defaults. */
export const DEFAULT_TOPICS = {
  trades: 'cvd.trades.v1',
  symbols: 'cvd.symbols.v1',
  deadLetter: 'cvd.deadletter.v1',
  /** Aggregator snapshots: one compacted partition per trades partition. */
  aggregatorState: 'cvd.aggregator-state.v1',
  /** Every changed 1-minute bar (forming and final), Avro `Bar`, key `market:SYMBOL`. */
  bars: 'cvd.bars.v1',
} as const;

/**
 * Retention of `cvd.bars.v1`: a live stream, not history (history is QuestDB's). `delete` with
 * a short retention, not `compact`: a subscriber starts from the newest offsets and fetches
 * history from QuestDB, so keeping the last record per key buys nothing, and compaction would
 * cost broker CPU on a topic that gets several records per symbol per second.
 */
export const BARS_RETENTION_MS = 6 * 3600 * 1000;

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Broker-side topic configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  configs?: Record<string, string>;
}

export const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;

/** The specs of the pipeline's topics for a given trades partition count. */
export function pipelineTopics(
  names: { trades: string; symbols: string; deadLetter: string; aggregatorState: string; bars?: string },
  partitions: number,
): TopicSpec[] {
  const bars: TopicSpec[] =
    names.bars === undefined
      ? []
      : [{ topic: names.bars, partitions, configs: { 'cleanup.policy': 'delete', 'retention.ms': String(BARS_RETENTION_MS), 'segment.ms': String(3600 * 1000) } }];
  return [
    { topic: names.trades, partitions, configs: { 'cleanup.policy': 'delete', 'retention.ms': String(SEVEN_DAYS_MS) } },
    { topic: names.symbols, partitions: 1, configs: { 'cleanup.policy': 'compact' } },
    { topic: names.deadLetter, partitions: 1, configs: { 'cleanup.policy': 'delete', 'retention.ms': String(SEVEN_DAYS_MS) } },
    {
      topic: names.aggregatorState,
      partitions,
      configs: {
        'cleanup.policy': 'compact',
        // Snapshots are large and frequent; roll segments often so compaction keeps the topic small.
        'segment.ms': String(10 * 60 * 1000),
        'min.cleanable.dirty.ratio': '0.1',
        'max.message.bytes': String(64 * 1024 * 1024),
      },
    },
    ...bars,
  ];
}

/**
 * Creates the topics that do not exist yet (idempotent, safe from several processes at once).
 * Existing topics are left as they are; a partition count that differs is reported, not changed.
 */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[], logger?: Logger): Promise<void> {
  await withKafkaRetry(() => ensureTopicsOnce(kafka, specs, logger));
}

async function ensureTopicsOnce(kafka: Kafka, specs: TopicSpec[], logger?: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length) {
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: s.topic,
            numPartitions: s.partitions,
            replicationFactor: -1,
            configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
          })),
        });
        logger?.info({ topics: missing.map((s) => s.topic) }, 'created Kafka topics');
      } catch (err) {
        // Another process may have created them in between: fine if they exist now.
        const now = new Set(await admin.listTopics());
        if (!missing.every((s) => now.has(s.topic))) throw err;
      }
    }
    const present = specs.filter((s) => existing.has(s.topic));
    if (present.length) {
      const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
      for (const t of meta.topics) {
        const want = present.find((s) => s.topic === t.name)?.partitions;
        if (want !== undefined && t.partitions.length !== want) {
          logger?.warn({ topic: t.name, partitions: t.partitions.length, configured: want }, 'topic exists with another partition count; keeping it');
        }
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** Partition count of a topic (throws if it does not exist). */
export async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  return withKafkaRetry(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      return meta.topics[0]?.partitions.length ?? 0;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  });
}
