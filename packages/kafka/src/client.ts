import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '@cvd/common';

/** How to reach Kafka; every field comes from the service's parsed environment. */
export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** Use TLS to the brokers. @defaultValue false */
  ssl?: boolean;
  /** SASL credentials (PLAIN or SCRAM). Never logged. */
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** @defaultValue 10000 */
  connectionTimeoutMs?: number;
  /** @defaultValue 30000 */
  requestTimeoutMs?: number;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

// kafkajs logs a few transient, self-healing conditions at ERROR: a coordinator still loading
// right after the broker starts, a rebalance in progress, and the start-up races of a fresh
// cluster — CreateTopics answering "already exists" to the second of several services creating
// the same topics (ensureTopics then checks the topics exist and throws if not), and
// ListOffsets/Metadata answering "not the leader" / "no leader" / "does not host this
// topic-partition" while a just-created partition elects its leader. kafkajs retries them all
// internally; whatever outlasts its retries surfaces as a thrown error our code logs itself. They
// go to debug, so an `error` line always means something.
const TRANSIENT = new RegExp(
  [
    'coordinator is loading',
    'coordinator is not available',
    'rebalance in progress',
    'the group is rebalancing',
    'not the correct coordinator',
    'leader not available',
    'there is no leader for this topic-partition',
    'not the leader for that topic-partition',
    'does not host this topic-partition',
    'topic creation errors',
    'topic with this name already exists',
  ].join('|'),
  'i',
);

// kafkajs warns on every idempotent producer that finite retries "may invalidate EoS"; our
// producers retry failed sends themselves, so the warning carries no information.
const NOISE = /Limiting retries for the idempotent producer/;

// A consumer crash is logged by kafkajs at ERROR before it knows whether it restarts; the
// consumer shell (PartitionedConsumer) logs the CRASH event itself — `error` when the consumer
// stays down, `warn` when kafkajs restarts it — so kafkajs's own two lines go to warn.
const CONSUMER_RESTART = /^(Crash: |Restarting the consumer in )/;

/**
 * The pino level for one kafkajs log entry, or `undefined` to drop it. Exported for its tests.
 * @param level kafkajs `logLevel`
 * @param message the entry's message
 * @param error the entry's `error` field (kafkajs puts the broker's error text there)
 */
export function kafkajsLogLevel(level: number, message: string, error?: unknown): 'error' | 'warn' | 'info' | 'debug' | undefined {
  if (NOISE.test(message)) return undefined;
  if (CONSUMER_RESTART.test(message)) return 'warn';
  if (TRANSIENT.test(`${message} ${error === undefined ? '' : String(error)}`)) return 'debug';
  return LEVELS[level] ?? 'info';
}

/** Creates the kafkajs client with its logs routed into pino. */
export function createKafka(settings: KafkaSettings, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs ?? 10_000,
    requestTimeout: settings.requestTimeoutMs ?? 30_000,
    retry: { initialRetryTime: 300, retries: 10, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, timestamp: _t, logger: _l, ...rest } = entry as { message: string; timestamp?: string; logger?: string } & Record<string, unknown>;
        const lvl = kafkajsLogLevel(level, message, rest.error);
        if (lvl !== undefined) log[lvl](rest, `kafkajs: ${message}`);
      },
  };
  if (settings.ssl) config.ssl = true;
  if (settings.sasl) config.sasl = settings.sasl as SASLOptions;
  return new Kafka(config);
}
