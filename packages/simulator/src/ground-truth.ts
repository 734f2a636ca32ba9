import type { FaultRegistry } from './faults.js';
import type { TradeBook } from './trade-book.js';
import { streamKey, type Market, type SimTrade } from './types.js';

/**
 * What the simulator published: every trade per market+symbol (in the REST book, ascending
 * `a`), which ids the websocket withheld (`skip` faults), which REST refuses, and hence which
 * can never be recovered. Views are live; arrays returned are copies.
 */
export interface GroundTruth {
  /** Trades published so far, across markets, in publish order. */
  readonly published: number;
  /** (market, symbol) pairs with at least one published trade. */
  symbols(): { market: Market; symbol: string }[];
  /** Published trades of one symbol, ascending by `a`. */
  trades(market: Market, symbol: string): SimTrade[];
  /** Every published trade in publish (trade-time) order. */
  all(): SimTrade[];
  /** Ids withheld from the websocket (still served by REST unless refused). */
  skippedOnWs(market: Market, symbol: string): number[];
  /** Published ids that REST currently refuses. */
  refusedByRest(market: Market, symbol: string): number[];
  /** Withheld from the websocket and refused by REST: holes no client can fill. */
  unrecoverable(market: Market, symbol: string): number[];
}

export class SkipLog {
  private readonly ids = new Map<string, number[]>();

  add(t: SimTrade): void {
    const key = streamKey(t.market, t.symbol);
    let list = this.ids.get(key);
    if (list === undefined) this.ids.set(key, (list = []));
    list.push(t.a);
  }

  get(market: Market, symbol: string): readonly number[] {
    return this.ids.get(streamKey(market, symbol)) ?? [];
  }
}

export function groundTruthView(book: TradeBook, skips: SkipLog, faults: FaultRegistry): GroundTruth {
  const refused = (market: Market, symbol: string): number[] =>
    book
      .list(market, symbol)
      .filter((t) => faults.restRefuses(market, symbol, t.a))
      .map((t) => t.a);
  return {
    get published() {
      return book.size;
    },
    symbols: () =>
      book.keys().map((k) => {
        const i = k.indexOf(':');
        return { market: k.slice(0, i) as Market, symbol: k.slice(i + 1) };
      }),
    trades: (market, symbol) => [...book.list(market, symbol)],
    all: () => [...book.all()],
    skippedOnWs: (market, symbol) => [...skips.get(market, symbol)],
    refusedByRest: refused,
    unrecoverable: (market, symbol) => {
      const r = new Set(refused(market, symbol));
      return skips.get(market, symbol).filter((a) => r.has(a));
    },
  };
}
