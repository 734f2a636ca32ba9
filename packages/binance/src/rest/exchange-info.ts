/**
 * `GET /api/v3/exchangeInfo`, `/fapi/v1/exchangeInfo`, `/dapi/v1/exchangeInfo`, reduced to
 * what the pipeline needs.
 * Docs: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints#exchange-information
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Exchange-Information
 * https://developers.binance.com/docs/derivatives/coin-margined-futures/market-data/rest-api/Exchange-Information
 */
import { BinanceError } from '../errors.js';
import type { Market } from '@cvd/core';

export interface SymbolInfo {
  readonly market: Market;
  readonly symbol: string;
  /**
   * Trading status as Binance spells it. Spot: TRADING, HALT, BREAK, END_OF_DAY,
   * CANCEL_ONLY; USD-M: TRADING, SETTLING, …; COIN-M reports it as `contractStatus`.
   */
  readonly status: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
  /** Futures only: PERPETUAL, CURRENT_QUARTER, … */
  readonly contractType?: string;
  /** Futures only: the underlying pair (`BTCUSD` for `BTCUSD_PERP`). */
  readonly pair?: string;
  /** COIN-M only: quote value of one contract (`q` is in contracts). */
  readonly contractSize?: number;
  /** PRICE_FILTER tickSize, as the decimal string Binance sent. */
  readonly tickSize?: string;
  /** LOT_SIZE stepSize, as the decimal string Binance sent. */
  readonly stepSize?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function filterValue(filters: unknown, type: string, key: string): string | undefined {
  if (!Array.isArray(filters)) return undefined;
  const f: unknown = filters.find((x) => isObj(x) && x['filterType'] === type);
  return isObj(f) ? str(f[key]) : undefined;
}

/** Throws `BinanceError('bad-response')` when the body or an entry lacks a required field. */
export function parseExchangeInfo(market: Market, body: unknown): SymbolInfo[] {
  if (!isObj(body) || !Array.isArray(body['symbols'])) {
    throw new BinanceError('bad-response', `${market} exchangeInfo has no "symbols" array`);
  }
  return body['symbols'].map((raw: unknown, i: number): SymbolInfo => {
    if (!isObj(raw)) throw new BinanceError('bad-response', `${market} exchangeInfo symbols[${i}] is not an object`);
    const symbol = str(raw['symbol']);
    // COIN-M says contractStatus; take whichever the market uses, falling back to the other.
    const status =
      market === 'coinm' ? str(raw['contractStatus']) ?? str(raw['status']) : str(raw['status']) ?? str(raw['contractStatus']);
    const baseAsset = str(raw['baseAsset']);
    const quoteAsset = str(raw['quoteAsset']);
    if (symbol === undefined || status === undefined || baseAsset === undefined || quoteAsset === undefined) {
      throw new BinanceError(
        'bad-response',
        `${market} exchangeInfo symbols[${i}] lacks symbol, status/contractStatus, baseAsset or quoteAsset`,
      );
    }
    const info: { -readonly [K in keyof SymbolInfo]: SymbolInfo[K] } = { market, symbol, status, baseAsset, quoteAsset };
    const contractType = str(raw['contractType']);
    if (contractType !== undefined) info.contractType = contractType;
    const pair = str(raw['pair']);
    if (pair !== undefined) info.pair = pair;
    if (typeof raw['contractSize'] === 'number') info.contractSize = raw['contractSize'];
    const tickSize = filterValue(raw['filters'], 'PRICE_FILTER', 'tickSize');
    if (tickSize !== undefined) info.tickSize = tickSize;
    const stepSize = filterValue(raw['filters'], 'LOT_SIZE', 'stepSize');
    if (stepSize !== undefined) info.stepSize = stepSize;
    return info;
  });
}
