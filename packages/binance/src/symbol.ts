/**
 * Stream-name spelling of symbols. Which symbols are valid is the core's rule (`isSymbol`
 * in `@cvd/core`), shared by the parsers, the stream-name builder and the Kafka key.
 */

/**
 * Lowercases ASCII letters only. Binance lowercases stream names; full Unicode lowercasing
 * is locale- and length-changing (`İ` → `i̇`), so other characters pass through unchanged.
 */
export function lowerAscii(value: string): string {
  return value.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}
