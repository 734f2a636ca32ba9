/** `spot`, `usdm` (USD-M futures, fstream/fapi), `coinm` (COIN-M futures, dstream/dapi): the core's markets. */
import type { Market } from '@cvd/core';

export { MARKETS, isMarket } from '@cvd/core';
export type { Market };

/**
 * One aggTrade as the simulator knows it: the ground truth. Field names are Binance's.
 * Prices and quantities are the exact decimal strings that go on the wire.
 */
export interface SimTrade {
  readonly market: Market;
  /** Exchange symbol as Binance writes it in `s` (upper case, may be non-ASCII). */
  readonly symbol: string;
  /** Aggregate trade id; per symbol it increases by exactly 1. */
  readonly a: number;
  readonly p: string;
  /** Base quantity (spot, USD-M) or contracts (COIN-M). */
  readonly q: string;
  /** USD-M only: quantity without RPI-order fills (defaults to `q`). */
  readonly nq?: string;
  readonly f: number;
  readonly l: number;
  /** Trade time, ms. */
  readonly T: number;
  /** Trade time, µs (`T * 1000` when the source only knows ms). */
  readonly Tus: number;
  /** Event time, ms. */
  readonly E: number;
  /** Buyer is the maker (taker sold). */
  readonly m: boolean;
  /** Spot "is best match" (ignore); always present, only sent on spot. */
  readonly M: boolean;
}

/** What `exchangeInfo` says about one symbol. */
export interface SymbolInfo {
  readonly market: Market;
  readonly symbol: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
  /** PRICE_FILTER tickSize, e.g. `"0.01"`. */
  readonly tickSize: string;
  /** LOT_SIZE stepSize, e.g. `"0.00001"`. */
  readonly stepSize: string;
  /** Spot `status`, USD-M `status`, COIN-M `contractStatus`. @defaultValue `"TRADING"` */
  readonly status: string;
  /** Futures only. @defaultValue `"PERPETUAL"` (COIN-M `_YYMMDD` symbols: `"CURRENT_QUARTER"`) */
  readonly contractType?: string;
  /** COIN-M only: USD value of one contract. */
  readonly contractSize?: number;
}

export function streamKey(market: Market, symbol: string): string {
  return `${market}:${symbol}`;
}

/** Binance's stream name for a symbol's aggTrades (symbol lower-cased). */
export function aggTradeStreamName(symbol: string): string {
  return `${symbol.toLowerCase()}@aggTrade`;
}
