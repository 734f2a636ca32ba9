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

// kafkajs logs a few transient, self-healing conditions at ERROR (a coordinator still loading
// right after the broker starts, a rebalance in progress). They are retried internally, so we
// log them at debug and keep ERROR meaningful.
const TRANSIENT = /coordinator is loading|coordinator is not available|rebalance in progress|not the correct coordinator|leader not available/i;

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
        // kafkajs warns on every idempotent producer that finite retries "may invalidate EoS";
        // our producers retry failed sends themselves, so the warning carries no information.
        if (/Limiting retries for the idempotent producer/.test(message)) return;
        const lvl = TRANSIENT.test(`${message} ${String(rest.error ?? '')}`) ? 'debug' : (LEVELS[level] ?? 'info');
        log[lvl](rest, `kafkajs: ${message}`);
      },
  };
  if (settings.ssl) config.ssl = true;
  if (settings.sasl) config.sasl = settings.sasl as SASLOptions;
  return new Kafka(config);
}
