/**
 * Binance Spot aggTrade frames.
 * Doc: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#aggregate-trade-streams
 * (source: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md)
 *
 * `{"e":"aggTrade","E":..,"s":"BNBBTC","a":..,"p":"0.001","q":"100","f":..,"l":..,"T":..,"m":true,"M":true}`
 * - `M` ("ignore") is tolerated and dropped, like any unknown field.
 * - Streams opened with `timeUnit=MICROSECOND` send `T`/`E` in microseconds: pass
 *   `{ timeUnit: 'MICROSECOND' }` and the trade keeps `tradeTimeUs` next to the floored ms.
 * - Before maintenance the server sends `{"e":"serverShutdown","E":..}`: reconnect at once.
 */
import type { MarketDialect, ParseOptions, ParsedFrame } from './core.js';
import { parseDialectFrame } from './core.js';
import { MARKET_CONFIGS } from '../market.js';

export const SPOT_DIALECT: MarketDialect = Object.freeze({
  market: 'spot',
  docUrl: MARKET_CONFIGS.spot.docUrl,
  serverShutdownEvent: true,
});

export function parseSpotFrame(raw: unknown, options?: ParseOptions): ParsedFrame {
  return parseDialectFrame(SPOT_DIALECT, raw, options);
}
