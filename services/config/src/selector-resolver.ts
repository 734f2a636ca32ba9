/**
 * The file's selectors resolved against exchangeInfo. A failed request keeps each selector's
 * last good answer (and a market with a never-resolved selector yields no list, so the
 * reconciler leaves that market's selector symbols as the topic has them).
 */
import type { SymbolInfo } from '@cvd/binance';
import type { Logger } from '@cvd/common';
import type { Market } from '@cvd/core';
import type { MarketLists } from './desired.js';
import type { ExchangeInfo } from './exchange-info.js';
import type { ConfigMetrics } from './metrics.js';
import { applySelector } from './selectors.js';
import type { SymbolFile } from './symbol-file.js';

const EMPTY_LISTS: MarketLists = { spot: undefined, usdm: undefined, coinm: undefined };

export class SelectorResolver {
  /** Last good answer per selector id. */
  private readonly results = new Map<string, readonly string[]>();
  private readonly failures = new Map<Market, string>();
  /** Resolutions since start. */
  refreshes = 0;

  constructor(
    private readonly exchange: ExchangeInfo,
    private readonly metrics: ConfigMetrics,
    private readonly logger: Logger,
  ) {}

  /** The markets whose exchangeInfo failed in the last resolution, with the error. */
  get errors(): ReadonlyMap<Market, string> {
    return this.failures;
  }

  /** Resolves every selector of `file` with exchangeInfo answers at most `maxAgeMs` old. */
  async resolve(file: SymbolFile, maxAgeMs: number): Promise<void> {
    this.refreshes++;
    const markets = new Set(file.selectors.map((s) => s.market));
    const infos = new Map<Market, readonly SymbolInfo[]>();
    this.failures.clear();
    for (const market of markets) {
      try {
        infos.set(market, await this.exchange.infos(market, maxAgeMs));
      } catch (err) {
        this.metrics.selectorFailures.inc({ market });
        this.failures.set(market, err instanceof Error ? err.message : String(err));
        this.logger.warn({ err, market }, 'exchangeInfo failed; selectors of this market keep their last answer');
      }
    }
    const live = new Set<string>();
    for (const selector of file.selectors) {
      live.add(selector.id);
      const list = infos.get(selector.market);
      if (list === undefined) continue;
      const r = applySelector(selector, list);
      for (const x of r.rejected) this.logger.warn({ market: selector.market, symbol: x.symbol, reason: x.reason }, 'exchangeInfo symbol skipped');
      this.results.set(selector.id, r.symbols);
    }
    for (const id of [...this.results.keys()]) if (!live.has(id)) this.results.delete(id);
  }

  /** The selectors' symbols per market; undefined for a market with an unresolved selector. */
  lists(file: SymbolFile | undefined): MarketLists {
    if (file === undefined) return EMPTY_LISTS;
    const lists: Record<Market, string[] | undefined> = { spot: [], usdm: [], coinm: [] };
    for (const selector of file.selectors) {
      const result = this.results.get(selector.id);
      const list = lists[selector.market];
      if (result === undefined) lists[selector.market] = undefined;
      else if (list !== undefined) list.push(...result);
    }
    return lists;
  }
}
