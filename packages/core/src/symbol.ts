/**
 * The symbol rule, one for the whole pipeline: the frame parsers, the stream-name builder,
 * the Kafka key, the symbol config and the admin API all use it.
 *
 * Binance symbols can be non-ASCII (`币安人生USDT`), so the check is a deny-list: 1–64
 * characters; no whitespace, control, format or surrogate characters, no U+FFFD (what a
 * broken UTF-8 decode leaves); none of the characters that structure stream names and URLs
 * (`@`, `/`, `?`, `#`, `&`, `=`, `%`); no quotes or backslash; and no `:` because the
 * pipeline's key is `market:SYMBOL`.
 */
import type { Market } from './market.js';
import { isMarket } from './market.js';

export const MAX_SYMBOL_LENGTH = 64;

const SYMBOL_RE = /^[^\s\p{Cc}\p{Cf}\p{Cs}\ufffd@/?#&=%:"'`\\]+$/u;

/** Whether `value` is a symbol as the exchange spells it (`BTCUSDT`, `BTCUSD_PERP`, `币安人生USDT`). */
export function isSymbol(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_SYMBOL_LENGTH && SYMBOL_RE.test(value);
}

/** A market and one of its symbols. */
export interface MarketSymbol {
  readonly market: Market;
  readonly symbol: string;
}

/**
 * `market:SYMBOL` (`usdm:BTCUSDT`): the key of a symbol's records on every topic and the
 * engine's per-symbol key. Same key → same partition → per-symbol order. The symbol is used
 * as given (no case folding): producers pass the exchange's spelling, as in aggTrade `s`.
 * Trusted input (the caller validated market and symbol at a boundary).
 */
export function symbolKey(market: Market, symbol: string): string {
  return `${market}:${symbol}`;
}

/** Inverse of {@link symbolKey} for untrusted text; undefined when it is not a valid key. */
export function splitSymbolKey(text: string): MarketSymbol | undefined {
  const i = text.indexOf(':');
  if (i < 0) return undefined;
  const market = text.slice(0, i);
  const symbol = text.slice(i + 1);
  return isMarket(market) && isSymbol(symbol) ? { market, symbol } : undefined;
}
