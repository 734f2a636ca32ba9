import type { Market } from '@cvd/core';
import type { MarketDialect, ParseOptions, ParsedFrame } from './core.js';
import { parseDialectFrame } from './core.js';
import { COINM_DIALECT } from './coinm.js';
import { SPOT_DIALECT } from './spot.js';
import { USDM_DIALECT } from './usdm.js';

export const DIALECTS: Readonly<Record<Market, MarketDialect>> = Object.freeze({
  spot: SPOT_DIALECT,
  usdm: USDM_DIALECT,
  coinm: COINM_DIALECT,
});

/**
 * Parses one websocket frame of `market`: raw (`{"e":"aggTrade",...}`) or combined
 * (`{"stream":..,"data":{...}}`) aggTrade events, subscription responses and spot
 * `serverShutdown`. `raw` may be a string, a Buffer/Uint8Array/ArrayBuffer (as websocket
 * libraries deliver text frames) or an already-parsed JSON value. Never throws: bad input
 * comes back as `{ kind: 'error', code, reason }`.
 */
export function parseFrame(market: Market, raw: unknown, options?: ParseOptions): ParsedFrame {
  const dialect = DIALECTS[market] as MarketDialect | undefined;
  if (dialect === undefined) {
    return { kind: 'error', code: 'invalid-field', reason: `unknown market ${JSON.stringify(String(market))}`, field: 'market' };
  }
  return parseDialectFrame(dialect, raw, options);
}
