/**
 * The symbol set comes only from the compacted `cvd.symbols.v1` topic: key `market:SYMBOL`,
 * value an Avro `SymbolConfig`; a tombstone (null value) or `enabled: false` means "not
 * wanted". Bad records are reported and skipped, never fatal.
 */
import type { Market } from '@cvd/core';
import { decodeSymbolConfig, parseKey } from '@cvd/schemas';

export type SymbolChange =
  | { readonly kind: 'enable'; readonly market: Market; readonly symbol: string }
  | { readonly kind: 'disable'; readonly market: Market; readonly symbol: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/** What one record of the symbols topic asks for (pure). */
export function symbolChange(key: Buffer | null, value: Buffer | null): SymbolChange {
  const k = parseKey(key);
  if (!k.ok) return { kind: 'invalid', reason: `bad key: ${k.error.message}` };
  const { market, symbol } = k.value;
  if (value === null) return { kind: 'disable', market, symbol };
  const c = decodeSymbolConfig(value);
  if (!c.ok) return { kind: 'invalid', reason: `bad value for ${market}:${symbol}: ${c.error.code}: ${c.error.message}` };
  if (c.value.market !== market || c.value.symbol !== symbol) {
    return { kind: 'invalid', reason: `key ${market}:${symbol} does not match the value's ${c.value.market}:${c.value.symbol}` };
  }
  return { kind: c.value.enabled ? 'enable' : 'disable', market, symbol };
}

/**
 * The desired symbol set, folded from records in topic order. `apply` returns only real
 * changes (enabling an enabled symbol is no change), so re-reading the topic is harmless.
 */
export class SymbolSet {
  readonly #enabled = new Set<string>();

  apply(change: SymbolChange): SymbolChange | undefined {
    if (change.kind === 'invalid') return undefined;
    const k = `${change.market}:${change.symbol}`;
    if (change.kind === 'enable') {
      if (this.#enabled.has(k)) return undefined;
      this.#enabled.add(k);
      return change;
    }
    if (!this.#enabled.delete(k)) return undefined;
    return change;
  }

  has(market: Market, symbol: string): boolean {
    return this.#enabled.has(`${market}:${symbol}`);
  }

  count(market: Market): number {
    let n = 0;
    for (const k of this.#enabled) if (k.startsWith(`${market}:`)) n++;
    return n;
  }
}
