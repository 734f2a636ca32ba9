/**
 * The catalogue: which symbols each market serves in `exchangeInfo`. Built once at start-up
 * from the sources' symbols, then the options' overrides/extras (matched by market+symbol,
 * so a test can mark a source symbol `BREAK` or change its grids). Read-only afterwards.
 */
import { SimulatorError } from './errors.js';
import type { SimulatorOptions } from './options.js';
import { defaultSymbolInfo, type TradeSource } from './sources/source.js';
import { isMarket, MARKETS, type Market, type SymbolInfo } from './types.js';

export class Catalogue {
  private readonly byMarket: Record<Market, Map<string, SymbolInfo>>;

  constructor(sources: readonly TradeSource[], overrides: SimulatorOptions['symbols'] = []) {
    this.byMarket = Object.fromEntries(MARKETS.map((m) => [m, new Map<string, SymbolInfo>()])) as Record<
      Market,
      Map<string, SymbolInfo>
    >;
    for (const src of sources) for (const s of src.symbols) this.byMarket[s.market].set(s.symbol, s);
    for (const o of overrides) {
      if (!isMarket(o.market)) throw new SimulatorError('bad-options', `symbols: bad market ${String(o.market)}`);
      const prev = this.byMarket[o.market].get(o.symbol);
      this.byMarket[o.market].set(o.symbol, {
        ...(prev ?? defaultSymbolInfo(o.market, o.symbol, o.tickSize ?? '0.01', o.stepSize ?? '0.001')),
        ...o,
      });
    }
  }

  /** The symbols of `market`, in insertion order (sources first, then extras). */
  symbols(market: Market): SymbolInfo[] {
    return [...this.byMarket[market].values()];
  }
}
