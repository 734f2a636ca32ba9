/**
 * Resolving selectors against Binance `exchangeInfo`. Pure: the exchange's symbol list comes
 * in, the selected symbols go out.
 */
import type { SymbolInfo } from '@cvd/binance';
import { symbolProblem } from './symbol-rules.js';
import { SELECTOR_FILTERS, type Selector } from './symbol-file.js';

export interface SelectorResult {
  /** Selected symbols, in exchangeInfo order, at most `limit`. */
  readonly symbols: readonly string[];
  /** Exchange symbols that matched but break the symbol rules (never published). */
  readonly rejected: readonly { readonly symbol: string; readonly reason: string }[];
}

/**
 * The symbols of `infos` (one market's exchangeInfo) that match every filter of `selector`
 * and are not excluded, in exchangeInfo order, cut at `limit`. Exchange data is untrusted:
 * a symbol breaking the rules is reported in `rejected`, not selected.
 */
export function applySelector(selector: Selector, infos: readonly SymbolInfo[]): SelectorResult {
  const symbols: string[] = [];
  const rejected: { symbol: string; reason: string }[] = [];
  const excluded = new Set(selector.exclude);
  const seen = new Set<string>();
  for (const info of infos) {
    if (info.market !== selector.market || excluded.has(info.symbol) || seen.has(info.symbol)) continue;
    const matches = SELECTOR_FILTERS.every((f) => {
      const wanted = selector.filters[f];
      if (wanted === undefined) return true;
      const actual = info[f];
      return actual !== undefined && wanted.includes(actual);
    });
    if (!matches) continue;
    const reason = symbolProblem(info.symbol);
    if (reason !== undefined) {
      rejected.push({ symbol: info.symbol, reason });
      continue;
    }
    if (selector.limit !== undefined && symbols.length >= selector.limit) break;
    seen.add(info.symbol);
    symbols.push(info.symbol);
  }
  return { symbols, rejected };
}
