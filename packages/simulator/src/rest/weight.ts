/**
 * Request-weight budget per fixed window (Binance: per clock minute, reported in
 * `X-MBX-USED-WEIGHT-1M`). A request that pushes the window over the limit is refused with 429
 * and `Retry-After` (seconds to the window's end); refused requests still count, as on Binance.
 */
export interface WeightCharge {
  used: number;
  ok: boolean;
  retryAfterSec: number;
}

export class WeightMeter {
  private readonly windows = new Map<string, { start: number; used: number }>();

  constructor(private readonly windowMs: number) {}

  charge(bucket: string, weight: number, limit: number, now = Date.now()): WeightCharge {
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    let w = this.windows.get(bucket);
    if (w === undefined || w.start !== start) this.windows.set(bucket, (w = { start, used: 0 }));
    w.used += weight;
    return { used: w.used, ok: w.used <= limit, retryAfterSec: Math.max(1, Math.ceil((start + this.windowMs - now) / 1000)) };
  }

  used(bucket: string, now = Date.now()): number {
    const w = this.windows.get(bucket);
    return w !== undefined && w.start === Math.floor(now / this.windowMs) * this.windowMs ? w.used : 0;
  }
}
