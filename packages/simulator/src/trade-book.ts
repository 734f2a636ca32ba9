import { streamKey, type Market, type SimTrade } from './types.js';

export interface AggTradesQuery {
  fromId?: number;
  startTime?: number;
  endTime?: number;
  limit: number;
}

/**
 * Every published trade per market+symbol, ordered by agg id: the ground truth and what REST
 * serves. Duplicate ids (same market, symbol, `a`) are refused.
 */
export class TradeBook {
  private readonly bySymbol = new Map<string, SimTrade[]>();
  private readonly order: SimTrade[] = [];

  /** @returns false when (market, symbol, a) is already held. */
  add(t: SimTrade): boolean {
    const key = streamKey(t.market, t.symbol);
    let list = this.bySymbol.get(key);
    if (list === undefined) this.bySymbol.set(key, (list = []));
    const last = list[list.length - 1];
    if (last === undefined || last.a < t.a) {
      list.push(t);
    } else {
      const i = lowerBound(list, t.a, (x) => x.a);
      if (list[i]?.a === t.a) return false;
      list.splice(i, 0, t);
    }
    this.order.push(t);
    return true;
  }

  get size(): number {
    return this.order.length;
  }

  keys(): string[] {
    return [...this.bySymbol.keys()];
  }

  list(market: Market, symbol: string): readonly SimTrade[] {
    return this.bySymbol.get(streamKey(market, symbol)) ?? [];
  }

  all(): readonly SimTrade[] {
    return this.order;
  }

  has(market: Market, symbol: string, a: number): boolean {
    const list = this.list(market, symbol);
    return list[lowerBound(list, a, (x) => x.a)]?.a === a;
  }

  /** Binance `aggTrades` selection, ascending by id; `limit` already clamped. */
  query(market: Market, symbol: string, q: AggTradesQuery): SimTrade[] {
    const list = this.list(market, symbol);
    if (q.fromId !== undefined) {
      let i = lowerBound(list, q.fromId, (x) => x.a);
      const out: SimTrade[] = [];
      for (; i < list.length && out.length < q.limit; i++) {
        const t = list[i] as SimTrade;
        if (q.startTime !== undefined && t.T < q.startTime) continue;
        if (q.endTime !== undefined && t.T > q.endTime) break;
        out.push(t);
      }
      return out;
    }
    if (q.startTime !== undefined) {
      const i = lowerBound(list, q.startTime, (x) => x.T);
      const out: SimTrade[] = [];
      for (let k = i; k < list.length && out.length < q.limit; k++) {
        const t = list[k] as SimTrade;
        if (q.endTime !== undefined && t.T > q.endTime) break;
        out.push(t);
      }
      return out;
    }
    // Only endTime, or nothing: the most recent `limit` trades (up to endTime).
    const end = q.endTime === undefined ? list.length : lowerBound(list, q.endTime + 1, (x) => x.T);
    return list.slice(Math.max(0, end - q.limit), end);
  }
}

/** First index whose key is >= value (list sorted by key). */
export function lowerBound<T>(list: readonly T[], value: number, key: (x: T) => number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(list[mid] as T) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
