/** Markets, in Avro enum order (the order is part of the wire format: append only). */
export const MARKETS = ['spot', 'usdm', 'coinm'] as const;
export type Market = (typeof MARKETS)[number];

export function isMarket(value: unknown): value is Market {
  return value === 'spot' || value === 'usdm' || value === 'coinm';
}

/** Unsigned decimal as Binance sends prices and quantities (`"0.00100000"`). */
const DECIMAL = /^\d+(?:\.\d+)?$/;
/** Signed decimal (a CVD anchor can be negative). */
const SIGNED_DECIMAL = /^-?\d+(?:\.\d+)?$/;
/** No separator, whitespace or control characters; anything else (non-ASCII too) is allowed. */
// eslint-disable-next-line no-control-regex
const SYMBOL = /^[^\s:\u0000-\u001f\u007f\ufffd]{1,64}$/u;

export function isDecimal(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL.test(value);
}

export function isSignedDecimal(value: unknown): value is string {
  return typeof value === 'string' && SIGNED_DECIMAL.test(value);
}

/** A symbol as the exchange spells it (`BTCUSDT`, `币安人生USDT`): 1–64 chars, no `:`, whitespace or control chars. */
export function isSymbol(value: unknown): value is string {
  return typeof value === 'string' && SYMBOL.test(value);
}

/**
 * Largest long avsc encodes and decodes as a JS number: 2^53 − 2 (it keeps one value of
 * headroom below `Number.MAX_SAFE_INTEGER`). Binance ids are far below it.
 */
export const MAX_LONG = 9_007_199_254_740_990;

/** Non-negative integer that survives a long as a JS number (ids, epoch ms). */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_LONG;
}
