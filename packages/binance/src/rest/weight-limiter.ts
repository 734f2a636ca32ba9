/**
 * Client-side accounting of Binance's IP request weight, per weight pool.
 *
 * Binance counts weight in fixed one-minute windows and reports the total so far in
 * `X-MBX-USED-WEIGHT-1M`. The limiter reserves a request's weight before it is sent (so
 * concurrent requests cannot overshoot together), raises its count to what the server
 * reports (other processes on the same IP spend the same budget), and makes callers wait
 * for the next window instead of exceeding the budget. A 429's `Retry-After` blocks the
 * pool until then.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface WeightUsage {
  /** Weight counted in the current window (reserved + reported). */
  readonly used: number;
  readonly windowStartMs: number;
  /** Calls wait until this time (after a 429); 0 when not blocked. */
  readonly blockedUntilMs: number;
}

interface PoolState {
  windowStart: number;
  used: number;
  blockedUntil: number;
}

export interface WeightLimiterOptions {
  /** @defaultValue 60000 */
  readonly windowMs?: number;
  /**
   * The first `marginMs` of a window still count as the previous one, so a local clock
   * slightly ahead of Binance's does not spend the new budget early.
   * @defaultValue 1000
   */
  readonly marginMs?: number;
}

export class WeightLimiter {
  private readonly pools = new Map<string, PoolState>();
  private readonly windowMs: number;
  private readonly marginMs: number;

  constructor(
    private readonly clock: Clock,
    options: WeightLimiterOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 60_000;
    this.marginMs = options.marginMs ?? 1_000;
  }

  private windowOf(now: number): number {
    return Math.floor((now - this.marginMs) / this.windowMs) * this.windowMs + this.marginMs;
  }

  private state(pool: string): PoolState {
    const now = this.clock.now();
    const windowStart = this.windowOf(now);
    let s = this.pools.get(pool);
    if (s === undefined) {
      s = { windowStart, used: 0, blockedUntil: 0 };
      this.pools.set(pool, s);
    } else if (s.windowStart !== windowStart) {
      s.windowStart = windowStart;
      s.used = 0;
    }
    return s;
  }

  /**
   * Waits until `weight` fits into `budget` for the current window, reserves it, and returns
   * the window's start (pass it to {@link observe}). A request heavier than the whole budget
   * goes alone into an empty window.
   */
  async acquire(pool: string, weight: number, budget: number, signal?: AbortSignal): Promise<number> {
    for (;;) {
      signal?.throwIfAborted();
      const s = this.state(pool);
      const now = this.clock.now();
      if (now < s.blockedUntil) {
        await this.clock.sleep(s.blockedUntil - now, signal);
        continue;
      }
      if (s.used === 0 || s.used + weight <= budget) {
        s.used += weight;
        return s.windowStart;
      }
      await this.clock.sleep(Math.max(1, s.windowStart + this.windowMs - now), signal);
    }
  }

  /** Takes the server's `X-MBX-USED-WEIGHT-1M` of a request sent in window `windowStart`. */
  observe(pool: string, usedWeight: number, windowStart: number): void {
    const s = this.state(pool);
    // A late answer from the previous window says nothing about this one.
    if (s.windowStart === windowStart && usedWeight > s.used) s.used = usedWeight;
  }

  /** Makes every {@link acquire} of `pool` wait until `untilMs` (a 429's Retry-After). */
  block(pool: string, untilMs: number): void {
    const s = this.state(pool);
    if (untilMs > s.blockedUntil) s.blockedUntil = untilMs;
  }

  usage(pool: string): WeightUsage {
    const s = this.state(pool);
    return {
      used: s.used,
      windowStartMs: s.windowStart,
      blockedUntilMs: s.blockedUntil > this.clock.now() ? s.blockedUntil : 0,
    };
  }
}
