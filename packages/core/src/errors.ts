/**
 * Typed errors shared by every package.
 *
 * Control flow branches on `instanceof` and `code`, never on message text. Each subclass
 * narrows `code` to its own `as const` union, so a `switch (err.code)` is exhaustive.
 */

/** Options accepted by every {@link CvdError} constructor. */
export interface CvdErrorOptions {
  /**
   * Whether trying the same operation again may succeed (network blip, broker
   * rebalance, 429). Bad input is never retriable.
   * @defaultValue false
   */
  readonly retriable?: boolean;
  /** The lower-level error that caused this one; kept for logs (`err.cause`). */
  readonly cause?: unknown;
  /**
   * Server-mandated wait before the next attempt (HTTP `Retry-After`, Binance 429/418).
   * {@link Backoff.next} honours it instead of its own schedule.
   */
  readonly retryAfterMs?: number;
}

/**
 * Base class of all project errors. Subclasses fix `C` to their code union:
 *
 * ```ts
 * export const KAFKA_ERROR_CODES = ['connect-failed', 'produce-failed'] as const;
 * export class KafkaError extends CvdError<(typeof KAFKA_ERROR_CODES)[number]> {}
 * ```
 */
export abstract class CvdError<C extends string = string> extends Error {
  readonly code: C;
  readonly retriable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(code: C, message: string, options: CvdErrorOptions = {}) {
    // `cause` goes through the standard Error option so runtimes and pino print it.
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Error codes of {@link ConfigError}. */
export const CONFIG_ERROR_CODES = ['invalid-env', 'invalid-option'] as const;
export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];

/** Bad configuration: start-up must fail with the message, retrying cannot help. */
export class ConfigError extends CvdError<ConfigErrorCode> {
  constructor(code: ConfigErrorCode, message: string, options: Omit<CvdErrorOptions, 'retriable'> = {}) {
    super(code, message, { ...options, retriable: false });
  }
}

/** Node system error codes that describe a transient network condition. */
const TRANSIENT_SYSTEM_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Whether retrying may help. A {@link CvdError} answers with its own flag; a plain Node
 * system error (`ECONNRESET`, `ETIMEDOUT`, …) counts as retriable; an abort never is;
 * anything else is not (unknown errors are treated as bugs, not weather).
 */
export function isRetriable(err: unknown): boolean {
  if (err instanceof CvdError) return err.retriable;
  if (typeof err !== 'object' || err === null) return false;
  if ((err as { name?: unknown }).name === 'AbortError') return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && TRANSIENT_SYSTEM_CODES.has(code);
}

/** Normalises anything thrown into an `Error` (for `{ err }` logging). */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : `non-error thrown: ${safeString(value)}`);
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
