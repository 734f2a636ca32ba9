/**
 * Binance USD-M futures aggTrade frames.
 * Doc: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Aggregate-Trade-Streams
 *
 * `{"e":"aggTrade","E":..,"s":"BTCUSDT","a":..,"p":"0.001","q":"100","nq":"100","f":..,"l":..,"T":..,"m":true}`
 * - Served under the `/market` path since 2026-04-23 (see `MARKET_CONFIGS.usdm.wsPathPrefix`).
 * - `nq` (quantity without RPI-order fills, since 2025-12-31) and `st` (1 = USD-M) are
 *   tolerated and dropped: CVD counts every fill, i.e. `q`.
 * - Pushed every 100 ms; insurance-fund and ADL trades are excluded. `f`/`l` may skip
 *   between consecutive aggTrades; only `a` is gap-free.
 * - Times are always milliseconds.
 */
import type { MarketDialect, ParseOptions, ParsedFrame } from './core.js';
import { parseDialectFrame } from './core.js';
import { MARKET_CONFIGS } from '../market.js';

export const USDM_DIALECT: MarketDialect = Object.freeze({
  market: 'usdm',
  docUrl: MARKET_CONFIGS.usdm.docUrl,
  serverShutdownEvent: false,
});

export function parseUsdmFrame(raw: unknown, options?: ParseOptions): ParsedFrame {
  return parseDialectFrame(USDM_DIALECT, raw, options);
}
