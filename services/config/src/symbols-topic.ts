/**
 * The compacted `cvd.symbols.v1` topic as the config service sees it: what it holds (read
 * back at start-up) and the one way to change it (publish records and tombstones, wait for
 * Kafka's acknowledgement, then remember them). It owns the topic's state and the producer,
 * and nothing else: what to publish is the reconciler's decision.
 */
import { Backoff, isRetriable, retry, type Logger } from '@cvd/common';
import { BatchingProducer, createKafka, type RefusalReason, ensureTopics, isRetriableKafkaError, pipelineTopics, readCompacted, type Kafka, type KafkaSettings, type TopicNames } from '@cvd/kafka';
import { decodeSymbolConfig, encodeSymbolConfig, parseKey, type SymbolConfig } from '@cvd/schemas';
import type { OutRecord } from './desired.js';
import type { ConfigMetrics } from './metrics.js';

export interface SymbolsTopicOptions {
  readonly kafka: KafkaSettings;
  readonly topics: TopicNames;
  /** Partitions of the trades topic when the service creates it. */
  readonly tradesPartitions: number;
  readonly logger: Logger;
  readonly metrics: ConfigMetrics;
  /** Sends failing this long (retriable errors) are given up: `publish` rejects and `onFatal` is called. @defaultValue 180000 */
  readonly giveUpAfterMs?: number;
  /** The producer gave up: the service exits non-zero (its supervisor restarts it). */
  readonly onFatal?: (err: Error) => void;
}

export class SymbolsTopic {
  /** What the topic holds: decodable records by key, null = tombstone. */
  private readonly records = new Map<string, SymbolConfig | null>();
  private lastError: string | undefined;
  private readonly producer: BatchingProducer;
  /** Records (not tombstones) published since start. */
  published = 0;
  tombstones = 0;

  /** Keys Kafka refused for good since the last `publish` looked (see `publish`). */
  private readonly refused = new Map<string, RefusalReason>();

  private constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly logger: Logger,
    private readonly metrics: ConfigMetrics,
    limits: { giveUpAfterMs?: number; onFatal?: (err: Error) => void } = {},
  ) {
    this.producer = new BatchingProducer(kafka, {
      logger,
      lingerMs: 0,
      ...(limits.giveUpAfterMs === undefined ? {} : { giveUpAfterMs: limits.giveUpAfterMs }),
      ...(limits.onFatal ? { onGiveUp: limits.onFatal } : {}),
      // A symbols record is tiny: a refusal is an authorisation or topic problem. Counted, logged
      // and reported by `publish`; never retried.
      onRejected: (records, reason, err) => {
        for (const r of records) {
          this.refused.set(typeof r.message.key === 'string' ? r.message.key : r.message.key.toString('utf8'), reason);
          metrics.producerRefused.inc({ topic: r.topic, reason });
        }
        logger.error({ err, reason, records: records.length, topic }, `Kafka refused ${records.length} symbols record(s) for good (${reason})`);
      },
      onSent: () => {
        this.lastError = undefined;
      },
      onError: (err) => {
        this.lastError = err instanceof Error ? err.message : String(err);
        metrics.kafkaSendErrors.inc();
      },
    });
  }

  /** Creates the pipeline topics when missing, reads the symbols topic back, connects the producer. */
  static async open(options: SymbolsTopicOptions): Promise<SymbolsTopic> {
    const { logger } = options;
    const kafka = createKafka(options.kafka, logger);
    const topic = new SymbolsTopic(kafka, options.topics.symbols, logger, options.metrics, {
      ...(options.giveUpAfterMs === undefined ? {} : { giveUpAfterMs: options.giveUpAfterMs }),
      ...(options.onFatal ? { onFatal: options.onFatal } : {}),
    });
    await topic.retrying('creating topics', () => ensureTopics(kafka, pipelineTopics(options.topics, options.tradesPartitions), logger));
    await topic.readBack();
    await topic.producer.connect();
    return topic;
  }

  /** What the topic holds now (after every acknowledged publish). */
  get current(): ReadonlyMap<string, SymbolConfig | null> {
    return this.records;
  }

  /** The last send error, cleared by the next successful send. */
  get kafkaError(): string | undefined {
    return this.lastError;
  }

  /** Publishes `records` (null value = tombstone) and resolves once Kafka acknowledged them. */
  async publish(records: readonly OutRecord[]): Promise<{ records: number; tombstones: number }> {
    if (records.length === 0) return { records: 0, tombstones: 0 };
    this.producer.enqueue(
      this.topic,
      records.map((r) => ({ key: r.key, value: r.value === null ? null : encodeSymbolConfig(r.value) })),
    );
    await this.producer.flush();
    const refused = records.filter((r) => this.refused.has(r.key));
    if (refused.length) {
      const reason = this.refused.get(refused[0]!.key);
      for (const r of records) this.refused.delete(r.key);
      throw new Error(`Kafka refused ${refused.length} of ${records.length} symbols record(s) for good (${reason}), e.g. ${refused[0]!.key}`);
    }
    let tombstones = 0;
    for (const r of records) {
      if (r.value === null) {
        tombstones++;
        this.records.set(r.key, null);
      } else {
        this.records.set(r.key, { ...r.value, anchorCvd: r.value.anchorCvd ?? null, notes: r.value.notes ?? null });
      }
    }
    const published = records.length - tombstones;
    this.published += published;
    this.tombstones += tombstones;
    this.metrics.published.inc(published);
    this.metrics.tombstones.inc(tombstones);
    return { records: published, tombstones };
  }

  /** Sends what is queued (at most 5 s: a stop is bounded) and disconnects. */
  close(): Promise<void> {
    return this.producer.close(5_000);
  }

  private async readBack(): Promise<void> {
    const read = await this.retrying('reading the symbols topic', () => readCompacted(this.kafka, this.topic, 'cvd-config-read'));
    for (const [k, record] of read) {
      const parsed = parseKey(k);
      if (!parsed.ok) {
        this.logger.warn({ key: k, reason: parsed.error.message }, 'ignoring a record with an invalid key on the symbols topic');
        continue;
      }
      if (record.value === null) {
        this.records.set(k, null);
        continue;
      }
      const decoded = decodeSymbolConfig(record.value);
      if (!decoded.ok) {
        // Possibly a newer schema from a newer instance: leave it alone rather than overwrite blindly.
        this.logger.warn({ key: k, code: decoded.error.code, reason: decoded.error.message }, 'ignoring an undecodable record on the symbols topic');
        continue;
      }
      this.records.set(k, decoded.value);
    }
  }

  /**
   * A topic created a moment ago may not have its leader everywhere yet (NOT_LEADER_FOR_PARTITION):
   * Kafka marks such errors retriable; retry them a few times before failing start-up.
   */
  private retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return retry(fn, {
      maxAttempts: 8,
      backoff: new Backoff({ initialMs: 200, maxMs: 3_000 }),
      shouldRetry: (err) => isRetriable(err) || isRetriableKafkaError(err),
      onRetry: ({ err, attempt, delayMs }) => this.logger.warn({ err, attempt, delayMs }, `${what} failed; retrying`),
    });
  }
}
