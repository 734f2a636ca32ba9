/**
 * Typed errors of the Binance client, on the project's `CvdError`. Branch on `code` or
 * `instanceof`, never on `message`; `isRetriable(err)` answers from the code.
 */
import { CvdError } from '@cvd/core';

export const BINANCE_ERROR_CODES = [
  /** Caller passed something Binance would refuse (bad symbol, limit, mixed fromId/time). */
  'invalid-argument',
  /** HTTP 429 and the bounded retries are spent (or Retry-After exceeds the cap). */
  'rate-limited',
  /** HTTP 418: the IP is banned (2 min – 3 days); do not call again before `retryAfterMs`. */
  'ip-banned',
  /** HTTP 403: the WAF limit was violated. */
  'waf-blocked',
  /** Any other 4xx; `binanceCode`/`message` carry Binance's `{code,msg}` when present. */
  'bad-request',
  /** HTTP 5xx: outcome unknown; safe to retry a GET later. */
  'server-error',
  /** The body was not the JSON shape the endpoint documents. */
  'bad-response',
  /** fetch failed below HTTP (DNS, reset, refused). */
  'network',
  /** The request took longer than the configured timeout. */
  'timeout',
  /** The caller's AbortSignal fired. */
  'aborted',
] as const;
export type BinanceErrorCode = (typeof BINANCE_ERROR_CODES)[number];

const RETRIABLE: Readonly<Record<BinanceErrorCode, boolean>> = {
  'invalid-argument': false,
  'rate-limited': true,
  'ip-banned': false,
  'waf-blocked': true,
  'bad-request': false,
  'server-error': true,
  'bad-response': false,
  network: true,
  timeout: true,
  aborted: false,
};

export interface BinanceErrorOptions {
  /** HTTP status, when the error came from a response. */
  status?: number;
  /** How long to stay away, from `Retry-After` (429, 418). */
  retryAfterMs?: number;
  /** Binance's numeric error code from a `{"code":-1121,"msg":...}` body. */
  binanceCode?: number;
  cause?: unknown;
}

/**
 * `retriable` follows the code (see {@link RETRIABLE}): network failures, timeouts, 5xx,
 * 429 and the WAF's 403 may pass later; bad arguments, other 4xx, unreadable bodies, the
 * caller's abort and a 418 ban do not (the client itself refuses calls until the ban ends,
 * and `retryAfterMs` says when that is).
 */
export class BinanceError extends CvdError<BinanceErrorCode> {
  readonly status: number | undefined;
  readonly binanceCode: number | undefined;

  constructor(code: BinanceErrorCode, message: string, options: BinanceErrorOptions = {}) {
    super(code, message, { cause: options.cause, retryAfterMs: options.retryAfterMs, retriable: RETRIABLE[code] });
    this.status = options.status;
    this.binanceCode = options.binanceCode;
  }
}
