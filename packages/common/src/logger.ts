import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Log levels accepted everywhere (env `LOG_LEVEL`, {@link createLogger}). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number] & LevelWithSilent;

/** Replacement written in place of every redacted value. */
export const REDACTED = '[redacted]';

const SECRET_KEYS = [
  'token',
  'accessToken',
  'refreshToken',
  'password',
  'passwd',
  'secret',
  'apiSecret',
  'apiKey',
  'authorization',
  'cookie',
  'sasl',
  'credentials',
  'privateKey',
] as const;

/**
 * Environment variable names that hold secrets, so that a parsed environment object logged by
 * mistake (`logger.info({ env })`) is censored too; {@link isSecretName} covers the messages.
 */
const SECRET_ENV_KEYS = [
  'CONFIG_ADMIN_TOKEN',
  'KAFKA_SASL_PASSWORD',
  'QUESTDB_PASSWORD',
  'QUESTDB_TOKEN',
  'QDB_PG_PASSWORD',
  'GRAFANA_ADMIN_PASSWORD',
  'BINANCE_API_KEY',
  'BINANCE_API_SECRET',
] as const;

/**
 * Paths censored in every log line. pino's redaction has no recursive wildcard, so
 * secrets are matched at the top level and one or two levels down (`{ kafka: { sasl } }`,
 * `{ config: { kafka: { sasl } } }`, `{ env: { KAFKA_SASL_PASSWORD } }`), plus HTTP header spellings.
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  ...SECRET_ENV_KEYS,
  ...SECRET_ENV_KEYS.map((k) => `*.${k}`),
  ...SECRET_ENV_KEYS.map((k) => `*.*.${k}`),
  'headers.authorization',
  'headers.cookie',
  'headers["x-mbx-apikey"]',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-mbx-apikey"]',
  '*.headers["x-api-key"]',
];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Service name, written as `service` on every line. */
  readonly service: string;
  /** @defaultValue 'info' */
  readonly level?: LogLevel;
  /**
   * Human-readable output through `pino-pretty` when it is installed (it is not a project
   * dependency: use it locally or pipe JSON through `npx pino-pretty`). Falls back to JSON.
   * @defaultValue false
   */
  readonly pretty?: boolean;
  /** Extra redaction paths (pino/fast-redact syntax) on top of {@link DEFAULT_REDACT_PATHS}. */
  readonly redact?: readonly string[];
  /** Where lines go; tests pass a capturing stream. @defaultValue stdout */
  readonly destination?: DestinationStream;
}

/**
 * Creates the service's root logger: JSON lines with `service`, ISO `time`, string
 * `level`, an `err` serializer that keeps `code`, `retriable` and the `cause` chain, and
 * redaction of secret-looking keys. Libraries never call this; they receive a logger
 * (`logger.child({ market, symbol })`).
 */
export function createLogger(options: LoggerOptions): Logger {
  const prettyTarget = options.pretty === true && options.destination === undefined ? resolvePretty() : undefined;
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.errWithCause },
      redact: { paths: [...DEFAULT_REDACT_PATHS, ...(options.redact ?? [])], censor: REDACTED },
      ...(prettyTarget === undefined ? {} : { transport: { target: prettyTarget } }),
    },
    options.destination,
  );
  if (options.pretty === true && prettyTarget === undefined && options.destination === undefined) {
    logger.debug('pino-pretty is not installed; logging JSON');
  }
  return logger;
}

function resolvePretty(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('pino-pretty');
  } catch {
    return undefined;
  }
}
