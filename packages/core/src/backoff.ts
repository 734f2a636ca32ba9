import { CvdError, isRetriable } from './errors.js';

/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** Upper bound of the first delay. @defaultValue 250 */
  readonly initialMs?: number;
  /** Upper bound of any computed delay (not of a server-mandated `retryAfterMs`). @defaultValue 30_000 */
  readonly maxMs?: number;
  /** Growth factor per failed attempt. @defaultValue 2 */
  readonly multiplier?: number;
  /** Uniform random in [0, 1); pass {@link seededRandom} in tests. @defaultValue Math.random */
  readonly random?: () => number;
  /**
   * `false` waits the ceiling itself: for polling one local process (is the broker up yet?),
   * where there is no crowd to spread and a steady pace reads best in logs.
   * @defaultValue true
   */
  readonly jitter?: boolean;
}

/**
 * The project's one reconnect/retry policy: exponential backoff with full jitter
 * (delay = random · min(maxMs, initialMs · multiplier^attempt)), reset on success.
 *
 * Full jitter spreads many clients reconnecting after one outage (hundreds of symbols
 * after a Binance disconnect) instead of stampeding in lock step. A server-given
 * `retryAfterMs` (HTTP 429/418 `Retry-After`) replaces the computed delay and is not
 * capped: waiting less than Binance asks extends an IP ban.
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #multiplier: number;
  readonly #random: () => number;
  readonly #jitter: boolean;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = Math.max(0, options.initialMs ?? 250);
    this.#maxMs = Math.max(this.#initialMs, options.maxMs ?? 30_000);
    this.#multiplier = Math.max(1, options.multiplier ?? 2);
    this.#random = options.random ?? Math.random;
    this.#jitter = options.jitter ?? true;
  }

  /** Failed attempts since the last {@link reset}. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Delay before the next attempt, in whole ms; counts one more failed attempt. */
  next(options: { readonly retryAfterMs?: number | undefined } = {}): number {
    const ceiling = Math.min(this.#maxMs, this.#initialMs * this.#multiplier ** this.#attempt);
    this.#attempt += 1;
    const retryAfter = options.retryAfterMs;
    if (retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0) {
      return Math.ceil(retryAfter);
    }
    return this.#jitter ? Math.floor(this.#random() * ceiling) : Math.floor(ceiling);
  }

  /** Call after a success: the next failure starts from `initialMs` again. */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Deterministic uniform [0, 1) generator (mulberry32) for reproducible tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Resolves after `ms`, or rejects with `signal.reason` as soon as `signal` aborts
 * (immediately if it already has). The timer and listener are always released.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Policy to use; a fresh default one when omitted. */
  readonly backoff?: Backoff;
  /** Stops waiting and rethrows the abort reason. */
  readonly signal?: AbortSignal;
  /** Give up after this many attempts in total. @defaultValue Infinity */
  readonly maxAttempts?: number;
  /**
   * Give up once this many ms have passed since the first attempt started: a failure after
   * that is rethrown instead of waited on (a wait already begun is not cut short).
   * @defaultValue Infinity
   */
  readonly timeoutMs?: number;
  /** Which errors are worth another attempt. @defaultValue {@link isRetriable} */
  readonly shouldRetry?: (err: unknown) => boolean;
  /** Called before each wait (log it, count it). */
  readonly onRetry?: (info: { readonly err: unknown; readonly attempt: number; readonly delayMs: number }) => void;
  /**
   * How to wait between attempts; a caller with its own clock (a fake one in tests, a rate
   * limiter's) passes it here. Gets `signal`. @defaultValue {@link sleep}
   */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Clock for {@link RetryOptions.timeoutMs}. @defaultValue Date.now */
  readonly now?: () => number;
}

/**
 * Runs `fn` until it succeeds, waiting per the {@link Backoff} between retriable failures;
 * honours `retryAfterMs` of a {@link CvdError}. Non-retriable errors are rethrown at once.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const backoff = options.backoff ?? new Backoff();
  const shouldRetry = options.shouldRetry ?? isRetriable;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const wait = options.sleep ?? sleep;
  const now = options.now ?? Date.now;
  const deadline = now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await fn(attempt);
      backoff.reset();
      return value;
    } catch (err) {
      if (attempt >= maxAttempts || !shouldRetry(err) || options.signal?.aborted === true || now() >= deadline) throw err;
      const retryAfterMs = err instanceof CvdError ? err.retryAfterMs : undefined;
      const delayMs = backoff.next({ retryAfterMs });
      options.onRetry?.({ err, attempt, delayMs });
      await wait(delayMs, options.signal);
    }
  }
}
