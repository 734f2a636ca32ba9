/**
 * Binance COIN-M futures aggTrade frames.
 * Doc: https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams/Aggregate-Trade-Streams
 *
 * `{"e":"aggTrade","E":..,"a":..,"s":"BTCUSD_PERP","p":"0.001","q":"100","f":..,"l":..,"T":..,"m":true}`
 * - `q` is a number of **contracts**, not base asset: downstream must not mix it with spot or
 *   USD-M quantities without converting.
 * - `st` (2 = COIN-M) is tolerated and dropped.
 * - Symbols name perpetuals (`_PERP`) and dated contracts (`ETHUSD_210924`).
 * - Times are always milliseconds.
 */
import type { MarketDialect, ParseOptions, ParsedFrame } from './core.js';
import { parseDialectFrame } from './core.js';
import { MARKET_CONFIGS } from '../market.js';

export const COINM_DIALECT: MarketDialect = Object.freeze({
  market: 'coinm',
  docUrl: MARKET_CONFIGS.coinm.docUrl,
  serverShutdownEvent: false,
});

export function parseCoinmFrame(raw: unknown, options?: ParseOptions): ParsedFrame {
  return parseDialectFrame(COINM_DIALECT, raw, options);
}
