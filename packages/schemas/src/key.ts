import { isMarket, isSymbol, splitSymbolKey, symbolKey, type Market, type MarketSymbol } from '@cvd/core';
import { fail, ok, SchemaError, type DecodeResult } from './schema-error.js';

export type { MarketSymbol };

/**
 * The Kafka key of a symbol's records on every topic, `market:SYMBOL` (`usdm:BTCUSDT`):
 * the core's `symbolKey`, checked, for producers at the codec boundary.
 * @throws SchemaError `invalid-key` for an unknown market or a symbol that breaks the symbol rule.
 */
export function key(market: Market, symbol: string): string {
  if (!isMarket(market)) throw new SchemaError('invalid-key', `unknown market ${JSON.stringify(market)}`);
  if (!isSymbol(symbol)) throw new SchemaError('invalid-key', `invalid symbol ${JSON.stringify(symbol)}`);
  return symbolKey(market, symbol);
}

/** Inverse of {@link key}, for keys read from Kafka (untrusted: returns, never throws). */
export function parseKey(k: string | Uint8Array | null | undefined): DecodeResult<MarketSymbol> {
  if (k === null || k === undefined) return fail('invalid-key', 'missing key');
  const text = typeof k === 'string' ? k : Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('utf8');
  const parsed = splitSymbolKey(text);
  if (parsed !== undefined) return ok(parsed);
  const i = text.indexOf(':');
  if (!isMarket(i < 0 ? '' : text.slice(0, i))) return fail('invalid-key', `key ${JSON.stringify(text)} does not start with spot:, usdm: or coinm:`);
  return fail('invalid-key', `key ${JSON.stringify(text)} has an invalid symbol`);
}
