import type { Logger } from 'pino';

/** Options of {@link RateLimitedLog}. */
export interface RateLimitedLogOptions {
  /** Minimum time between two lines of the same key. @defaultValue 10_000 */
  readonly intervalMs?: number;
  /** Clock in ms; inject a fake one in tests. @defaultValue Date.now */
  readonly now?: () => number;
  /**
   * Keys remembered at most; the oldest is forgotten first. Bounds memory when keys come
   * from input (symbols, peers). @defaultValue 10_000
   */
  readonly maxKeys?: number;
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

interface KeyState {
  lastLoggedAt: number;
  /** Suppressed since the last line written for this key. */
  pending: number;
  /** Suppressed over the lifetime of this key. */
  total: number;
}

/**
 * Logs a given key at most once per interval and counts what it suppressed, for noisy
 * bad input (malformed frames, unknown symbols). The next line written for a key carries
 * `suppressed: n`, the number of occurrences swallowed since the previous one, so the
 * log still says how often it happened.
 */
export class RateLimitedLog {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #keys = new Map<string, KeyState>();
  #totalSuppressed = 0;

  constructor(logger: Logger, options: RateLimitedLogOptions = {}) {
    this.#logger = logger;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#maxKeys = Math.max(1, options.maxKeys ?? 10_000);
  }

  /** Logs unless `key` was logged less than `intervalMs` ago; returns whether it logged. */
  log(level: Level, key: string, fields: Record<string, unknown>, msg: string): boolean {
    const now = this.#now();
    const state = this.#keys.get(key);
    if (state !== undefined && now - state.lastLoggedAt < this.#intervalMs) {
      state.pending += 1;
      state.total += 1;
      this.#totalSuppressed += 1;
      return false;
    }
    const suppressed = state?.pending ?? 0;
    if (state === undefined) {
      if (this.#keys.size >= this.#maxKeys) {
        const oldest = this.#keys.keys().next();
        if (oldest.done !== true) this.#keys.delete(oldest.value);
      }
      this.#keys.set(key, { lastLoggedAt: now, pending: 0, total: 0 });
    } else {
      state.lastLoggedAt = now;
      state.pending = 0;
    }
    this.#logger[level](suppressed > 0 ? { ...fields, key, suppressed } : { ...fields, key }, msg);
    return true;
  }

  warn(key: string, fields: Record<string, unknown>, msg: string): boolean {
    return this.log('warn', key, fields, msg);
  }

  error(key: string, fields: Record<string, unknown>, msg: string): boolean {
    return this.log('error', key, fields, msg);
  }

  info(key: string, fields: Record<string, unknown>, msg: string): boolean {
    return this.log('info', key, fields, msg);
  }

  /** Occurrences of `key` suppressed so far (0 for unknown or forgotten keys). */
  suppressedCount(key: string): number {
    return this.#keys.get(key)?.total ?? 0;
  }

  /** Occurrences suppressed over all keys. */
  get totalSuppressed(): number {
    return this.#totalSuppressed;
  }
}
