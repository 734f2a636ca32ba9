/**
 * Typed errors of the Binance client. Branch on `code` or `instanceof`, never on `message`.
 *
 * `@cvd/common` is meant to host the shared `CvdError` base; it is still a stub, so this class
 * carries the same contract (`code` from an `as const` union, `retriable`, `cause`) on its own
 * and can be re-based onto `CvdError` without changing its callers.
 */
export const BINANCE_ERROR_CODES = [
  /** Caller passed something Binance would refuse (bad symbol, limit, mixed fromId/time). */
  'invalid_argument',
  /** HTTP 429 and the bounded retries are spent (or Retry-After exceeds the cap). */
  'rate_limited',
  /** HTTP 418: the IP is banned (2 min – 3 days); do not call again before `retryAfterMs`. */
  'ip_banned',
  /** HTTP 403: the WAF limit was violated. */
  'waf_blocked',
  /** Any other 4xx; `binanceCode`/`message` carry Binance's `{code,msg}` when present. */
  'bad_request',
  /** HTTP 5xx: outcome unknown; safe to retry a GET later. */
  'server_error',
  /** The body was not the JSON shape the endpoint documents. */
  'bad_response',
  /** fetch failed below HTTP (DNS, reset, refused). */
  'network',
  /** The request took longer than the configured timeout. */
  'timeout',
  /** The caller's AbortSignal fired. */
  'aborted',
] as const;
export type BinanceErrorCode = (typeof BINANCE_ERROR_CODES)[number];

const RETRIABLE: Readonly<Record<BinanceErrorCode, boolean>> = {
  invalid_argument: false,
  rate_limited: true,
  ip_banned: false,
  waf_blocked: true,
  bad_request: false,
  server_error: true,
  bad_response: false,
  network: true,
  timeout: true,
  aborted: false,
};

export interface BinanceErrorOptions {
  /** @defaultValue the code's usual value (see {@link BINANCE_ERROR_CODES}) */
  retriable?: boolean;
  /** HTTP status, when the error came from a response. */
  status?: number;
  /** How long to stay away, from `Retry-After` (429, 418). */
  retryAfterMs?: number;
  /** Binance's numeric error code from a `{"code":-1121,"msg":...}` body. */
  binanceCode?: number;
  cause?: unknown;
}

export class BinanceError extends Error {
  override readonly name = 'BinanceError';
  readonly code: BinanceErrorCode;
  readonly retriable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly binanceCode: number | undefined;

  constructor(code: BinanceErrorCode, message: string, options: BinanceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? RETRIABLE[code];
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.binanceCode = options.binanceCode;
  }
}
