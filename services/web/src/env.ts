import { z } from 'zod';
import { envLogLevel, envPort, parseEnv, type EnvSource } from '@cvd/common';
import { kafkaEnvShape } from '@cvd/kafka';
import { DEFAULT_BAR_TABLE, questdbEnvShape } from '@cvd/questdb';

/**
 * Every variable the web service reads, parsed once at start-up; a bad value fails start-up
 * with one message naming each variable.
 */
export const WebEnv = z.object({
  /** Kafka: the live bars of `TOPIC_BARS` (cvd.bars.v1) behind `/api/stream`. */
  ...kafkaEnvShape,
  ...questdbEnvShape,
  /** Bind address. Loopback by default: exposing the charts is an explicit choice. */
  WEB_HOST: z.string().min(1).default('127.0.0.1'),
  WEB_PORT: envPort().default(8080),
  /** The 1m bar table; the views are derived from its name (`cvd_bars_5m`, … or `<table>_5m`). */
  WEB_BAR_TABLE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,122}$/, 'expected a QuestDB table name (letters, digits, _)').default(DEFAULT_BAR_TABLE),
  /** `/api/stream` clients beyond this are refused with a 503. */
  WEB_STREAM_MAX_CLIENTS: z.coerce.number().int().min(1).max(100_000).default(256),
  /** A stream client whose connection is backed up with more distinct (symbol, minute) bars waiting is dropped (it reconnects and refetches). */
  WEB_STREAM_MAX_PENDING: z.coerce.number().int().min(1).max(1_000_000).default(2000),
  LOG_LEVEL: envLogLevel().default('info'),
});
export type WebEnv = z.output<typeof WebEnv>;

export function parseWebEnv(env: EnvSource = process.env): WebEnv {
  return parseEnv(WebEnv, env);
}
