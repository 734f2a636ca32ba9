import { z } from 'zod';
import { ConfigError, envBoolean, envDuration, envList } from '@cvd/common';
import type { KafkaSettings } from './client.js';
import { DEFAULT_TOPICS } from './topics.js';
import { DEFAULT_GIVE_UP_AFTER_MS } from './producer.js';

/**
 * Kafka variables every service reads (merge into the service's zod object):
 * `KAFKA_BROKERS` (127.0.0.1:9092), `KAFKA_SSL` (false), `KAFKA_SASL_MECHANISM`
 * (plain | scram-sha-256 | scram-sha-512), `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD`,
 * `TOPIC_TRADES`, `TOPIC_SYMBOLS`, `TOPIC_DEADLETTER`, `TOPIC_AGGREGATOR_STATE`, `TOPIC_BARS`,
 * `TRADES_PARTITIONS` (12), `KAFKA_SEND_GIVE_UP` (3m).
 */
export const kafkaEnvShape = {
  KAFKA_BROKERS: envList({ min: 1 }).default(['127.0.0.1:9092']),
  KAFKA_SSL: envBoolean().default(false),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  TOPIC_TRADES: z.string().min(1).default(DEFAULT_TOPICS.trades),
  TOPIC_SYMBOLS: z.string().min(1).default(DEFAULT_TOPICS.symbols),
  TOPIC_DEADLETTER: z.string().min(1).default(DEFAULT_TOPICS.deadLetter),
  TOPIC_AGGREGATOR_STATE: z.string().min(1).default(DEFAULT_TOPICS.aggregatorState),
  TOPIC_BARS: z.string().min(1).default(DEFAULT_TOPICS.bars),
  TRADES_PARTITIONS: z.coerce.number().int().min(1).max(10_000).default(12),
  /**
   * How long a producer retries failing sends (broker down, no leader, timeouts) without one
   * acknowledged send before the service gives up and exits non-zero (its supervisor restarts it).
   */
  KAFKA_SEND_GIVE_UP: envDuration().default(DEFAULT_GIVE_UP_AFTER_MS),
};

const kafkaEnvObject = z.object(kafkaEnvShape);
export type KafkaEnv = z.output<typeof kafkaEnvObject>;

export interface TopicNames {
  trades: string;
  symbols: string;
  deadLetter: string;
  aggregatorState: string;
  bars: string;
}

export function topicNamesFromEnv(env: KafkaEnv): TopicNames {
  return { trades: env.TOPIC_TRADES, symbols: env.TOPIC_SYMBOLS, deadLetter: env.TOPIC_DEADLETTER, aggregatorState: env.TOPIC_AGGREGATOR_STATE, bars: env.TOPIC_BARS };
}

/** Builds client settings; SASL needs mechanism, username and password together. */
export function kafkaSettingsFromEnv(env: KafkaEnv, clientId: string): KafkaSettings {
  const settings: KafkaSettings = { brokers: env.KAFKA_BROKERS, clientId, ssl: env.KAFKA_SSL };
  if (env.KAFKA_SASL_MECHANISM) {
    if (!env.KAFKA_SASL_USERNAME || env.KAFKA_SASL_PASSWORD === undefined) {
      throw new ConfigError('invalid-env', 'KAFKA_SASL_MECHANISM is set but KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is missing');
    }
    settings.sasl = { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME, password: env.KAFKA_SASL_PASSWORD };
  }
  return settings;
}
