import type { Market, SimTrade, SymbolInfo } from '../types.js';
import { decimalPlaces, unitForDecimals } from '../decimal.js';

/**
 * A source of trades: the symbols it serves and a lazy iterator of its trades in trade-time
 * order. Iterators may be infinite (a synthetic market without bounds).
 */
export interface TradeSource {
  readonly name: string;
  readonly symbols: readonly SymbolInfo[];
  trades(): Iterator<SimTrade>;
}

/** Min-heap over the head trades of several iterators, by (Tus, input order): a k-way merge. */
export function* mergeByTime(iterators: readonly Iterator<SimTrade>[]): Generator<SimTrade> {
  interface Head {
    t: SimTrade;
    i: number;
  }
  const heap: Head[] = [];
  const less = (x: Head, y: Head): boolean => (x.t.Tus === y.t.Tus ? x.i < y.i : x.t.Tus < y.t.Tus);
  const push = (h: Head): void => {
    heap.push(h);
    let k = heap.length - 1;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      const pk = heap[parent] as Head;
      if (!less(h, pk)) break;
      heap[k] = pk;
      k = parent;
    }
    heap[k] = h;
  };
  const pop = (): Head | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let k = 0;
    for (;;) {
      const l = 2 * k + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const child = r < heap.length && less(heap[r] as Head, heap[l] as Head) ? r : l;
      if (!less(heap[child] as Head, last)) break;
      heap[k] = heap[child] as Head;
      k = child;
    }
    heap[k] = last;
    return top;
  };
  iterators.forEach((it, i) => {
    const r = it.next();
    if (r.done !== true) push({ t: r.value, i });
  });
  for (let h = pop(); h !== undefined; h = pop()) {
    yield h.t;
    const it = iterators[h.i] as Iterator<SimTrade>;
    const r = it.next();
    if (r.done !== true) push({ t: r.value, i: h.i });
  }
}

const QUOTES = ['FDUSD', 'USDT', 'USDC', 'BUSD', 'TUSD', 'USD', 'BTC', 'ETH', 'BNB', 'TRY', 'EUR', 'BRL', 'JPY', 'DAI'];

/** Best-effort base/quote split (`BTCUSDT` -> BTC/USDT, `ETHUSD_PERP` -> ETH/USD). */
export function splitSymbol(market: Market, symbol: string): { base: string; quote: string; pair: string } {
  const pair = market === 'coinm' ? (symbol.split('_')[0] ?? symbol) : symbol;
  for (const q of QUOTES) {
    if (pair.length > q.length && pair.endsWith(q)) return { base: pair.slice(0, -q.length), quote: q, pair };
  }
  return { base: pair, quote: market === 'coinm' ? 'USD' : 'USDT', pair };
}

/** Symbol metadata inferred from trades: grids from the most decimals seen. */
export function inferSymbolInfo(market: Market, symbol: string, trades: readonly SimTrade[]): SymbolInfo {
  let pd = 0;
  let qd = 0;
  for (const t of trades) {
    pd = Math.max(pd, decimalPlaces(t.p));
    qd = Math.max(qd, decimalPlaces(t.q));
  }
  return defaultSymbolInfo(market, symbol, unitForDecimals(pd), unitForDecimals(qd));
}

export function defaultSymbolInfo(market: Market, symbol: string, tickSize: string, stepSize: string): SymbolInfo {
  const { base, quote } = splitSymbol(market, symbol);
  const info: SymbolInfo = { market, symbol, baseAsset: base, quoteAsset: quote, tickSize, stepSize, status: 'TRADING' };
  if (market === 'spot') return info;
  const quarterly = market === 'coinm' && /_\d{6}$/.test(symbol);
  return {
    ...info,
    contractType: quarterly ? 'CURRENT_QUARTER' : 'PERPETUAL',
    ...(market === 'coinm' ? { contractSize: base === 'BTC' ? 100 : 10 } : {}),
  };
}

/** Groups trades by market+symbol, preserving order. */
export function groupBySymbol(trades: readonly SimTrade[]): Map<string, SimTrade[]> {
  const out = new Map<string, SimTrade[]>();
  for (const t of trades) {
    const key = `${t.market}:${t.symbol}`;
    let list = out.get(key);
    if (list === undefined) out.set(key, (list = []));
    list.push(t);
  }
  return out;
}

/** A finite, in-memory source. */
export function arraySource(name: string, trades: readonly SimTrade[], symbols?: readonly SymbolInfo[]): TradeSource {
  const infos =
    symbols ??
    [...groupBySymbol(trades).values()].map((list) => {
      const first = list[0] as SimTrade;
      return inferSymbolInfo(first.market, first.symbol, list);
    });
  return { name, symbols: infos, trades: () => trades[Symbol.iterator]() };
}
