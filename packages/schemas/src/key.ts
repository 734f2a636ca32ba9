import { fail, ok, SchemaError, type DecodeResult } from './schema-error.js';
import { isMarket, isSymbol, type Market } from './values.js';

export interface MarketSymbol {
  readonly market: Market;
  readonly symbol: string;
}

/**
 * The Kafka key of a symbol's records on every topic: `market:SYMBOL` (`usdm:BTCUSDT`).
 * Same key → same partition → per-symbol order. The symbol is used as given (no case
 * folding): producers pass the exchange's canonical spelling, as in aggTrade `s`.
 * @throws SchemaError `invalid-key` for an unknown market or a symbol with `:`, whitespace or control chars.
 */
export function key(market: Market, symbol: string): string {
  if (!isMarket(market)) throw new SchemaError('invalid-key', `unknown market ${JSON.stringify(market)}`);
  if (!isSymbol(symbol)) throw new SchemaError('invalid-key', `invalid symbol ${JSON.stringify(symbol)}`);
  return `${market}:${symbol}`;
}

/** Inverse of {@link key}, for keys read from Kafka (untrusted: returns, never throws). */
export function parseKey(k: string | Uint8Array | null | undefined): DecodeResult<MarketSymbol> {
  if (k === null || k === undefined) return fail('invalid-key', 'missing key');
  const text = typeof k === 'string' ? k : Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('utf8');
  const i = text.indexOf(':');
  const market = i < 0 ? '' : text.slice(0, i);
  const symbol = text.slice(i + 1);
  if (!isMarket(market)) return fail('invalid-key', `key ${JSON.stringify(text)} does not start with spot:, usdm: or coinm:`);
  if (!isSymbol(symbol)) return fail('invalid-key', `key ${JSON.stringify(text)} has an invalid symbol`);
  return ok({ market, symbol });
}
