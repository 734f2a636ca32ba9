/**
 * The config service's environment, parsed once at start-up.
 */
import { z } from 'zod';
import { envBoolean, envDuration, envLogLevel, envPort, parseEnv, type EnvSource } from '@cvd/common';
import { kafkaEnvShape, kafkaSettingsFromEnv, topicNamesFromEnv } from '@cvd/kafka';
import { DEFAULT_MAX_FILE_BYTES } from './symbol-file.js';
import type { ConfigServiceOptions } from './config-service.js';

const httpUrl = () =>
  z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).transform((u) => u.replace(/\/+$/, ''));

export const configEnvShape = {
  ...kafkaEnvShape,
  CONFIG_FILE: z.string().min(1).default('config/symbols.yaml'),
  CONFIG_FILE_MAX_BYTES: z.coerce.number().int().min(1).max(64 * 1024 * 1024).default(DEFAULT_MAX_FILE_BYTES),
  CONFIG_WATCH_DEBOUNCE: envDuration().default(250),
  CONFIG_SELECTOR_REFRESH: envDuration().default(3_600_000),
  CONFIG_VERIFY_SYMBOLS: envBoolean().default(true),
  CONFIG_ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  CONFIG_ADMIN_PORT: envPort().default(8081),
  CONFIG_ADMIN_TOKEN: z
    .string()
    .min(16, { error: 'expected at least 16 characters (e.g. `openssl rand -hex 32`)' })
    .regex(/^[\x21-\x7e]+$/, { error: 'expected printable ASCII without spaces' })
    .optional(),
  BINANCE_SPOT_REST_URL: httpUrl().default('https://api.binance.com'),
  BINANCE_USDM_REST_URL: httpUrl().default('https://fapi.binance.com'),
  BINANCE_COINM_REST_URL: httpUrl().default('https://dapi.binance.com'),
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  OPS_PORT: envPort().default(9465),
  LOG_LEVEL: envLogLevel().default('info'),
};

export const configEnvSchema = z.object(configEnvShape);
export type ConfigEnv = z.output<typeof configEnvSchema>;

/** Parses the environment; throws one `ConfigError('invalid-env')` listing every bad variable. */
export function parseConfigEnv(env?: EnvSource): ConfigEnv {
  return parseEnv(configEnvSchema, env);
}

/** The service options an environment describes (everything but the logger). */
export function optionsFromEnv(env: ConfigEnv): Omit<ConfigServiceOptions, 'logger'> {
  return {
    file: env.CONFIG_FILE,
    maxFileBytes: env.CONFIG_FILE_MAX_BYTES,
    watchDebounceMs: env.CONFIG_WATCH_DEBOUNCE,
    selectorRefreshMs: env.CONFIG_SELECTOR_REFRESH,
    verifySymbols: env.CONFIG_VERIFY_SYMBOLS,
    kafka: kafkaSettingsFromEnv(env, 'cvd-config'),
    topics: topicNamesFromEnv(env),
    tradesPartitions: env.TRADES_PARTITIONS,
    kafkaSendGiveUpMs: env.KAFKA_SEND_GIVE_UP,
    restUrls: { spot: env.BINANCE_SPOT_REST_URL, usdm: env.BINANCE_USDM_REST_URL, coinm: env.BINANCE_COINM_REST_URL },
    admin: { host: env.CONFIG_ADMIN_HOST, port: env.CONFIG_ADMIN_PORT, token: env.CONFIG_ADMIN_TOKEN },
    ops: { host: env.OPS_HOST, port: env.OPS_PORT },
  };
}
