/**
 * The engine's view of the trade (the core's `AggTrade`) and the form it works on.
 *
 * Trades reach the engine trusted: they passed the core's `checkTrade` at a boundary (the
 * frame parser or the record decoder), so nothing here validates them again; the decimal
 * strings are parsed, not judged.
 */
import { symbolKey, type AggTrade } from '@cvd/core';
import { decimal, type Decimal } from './decimal.js';
import { minuteOf } from './options.js';

/** The fields of a trade the engine reads; an `AggTrade` is one. */
export type EngineTrade = Pick<
  AggTrade,
  'market' | 'symbol' | 'aggId' | 'price' | 'qty' | 'firstId' | 'lastId' | 'tradeTimeMs' | 'buyerMaker' | 'recovered'
>;

/** A trade as the reducer works on it: its per-symbol key, exact decimals, trade count and minute. */
export interface PricedTrade {
  readonly key: string;
  readonly market: AggTrade['market'];
  readonly symbol: string;
  readonly aggId: number;
  readonly price: Decimal;
  readonly qty: Decimal;
  /** `lastId - firstId + 1`: the exchange trades the aggTrade covers. */
  readonly count: number;
  readonly minute: number;
  readonly buyerMaker: boolean;
  readonly recovered: boolean;
}

/**
 * Parses a trusted trade's decimals and derives its key and minute.
 * @throws RangeError when `price` or `qty` is not a decimal: the caller skipped the boundary check.
 */
export function priceTrade(t: EngineTrade): PricedTrade {
  return {
    key: symbolKey(t.market, t.symbol),
    market: t.market,
    symbol: t.symbol,
    aggId: t.aggId,
    price: decimal(t.price, { signed: false }),
    qty: decimal(t.qty, { signed: false }),
    count: t.lastId - t.firstId + 1,
    minute: minuteOf(t.tradeTimeMs),
    buyerMaker: t.buyerMaker,
    recovered: t.recovered,
  };
}
