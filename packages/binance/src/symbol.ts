/**
 * Symbol rules shared by the parsers and the stream-name builder.
 *
 * Binance symbols can be non-ASCII (`币安人生USDT`), so the check is a deny-list: no
 * whitespace or control characters, none of the characters that structure stream names and
 * URLs (`@`, `/`, `?`, `#`, `&`, `=`, `%`), and no `:` because the pipeline's Kafka key is
 * `market:SYMBOL`.
 */
export const MAX_SYMBOL_LENGTH = 64;

const SYMBOL_RE = /^[^\s\p{Cc}\p{Cf}\p{Cs}@/?#&=%:"\\]+$/u;

export function isValidSymbol(value: string): boolean {
  return value.length > 0 && value.length <= MAX_SYMBOL_LENGTH && SYMBOL_RE.test(value);
}

/**
 * Lowercases ASCII letters only. Binance lowercases stream names; full Unicode lowercasing
 * is locale- and length-changing (`İ` → `i̇`), so other characters pass through unchanged.
 */
export function lowerAscii(value: string): string {
  return value.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}
