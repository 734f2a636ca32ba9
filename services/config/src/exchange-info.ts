/**
 * Binance exchangeInfo as the config service uses it: a per-market cache (one request
 * answers every selector and every verification of that market), and the two checks of
 * symbols against it — the file's explicit symbols (warnings) and the admin API's additions
 * (refused when unlisted).
 */
import type { RestClient, SymbolInfo } from '@cvd/binance';
import type { Logger } from '@cvd/common';
import { MARKETS, type Market } from '@cvd/core';
import type { MarketSymbolInput } from './admin-api.js';
import type { SymbolFile } from './symbol-file.js';

export interface ExchangeInfoOptions {
  readonly rest: RestClient;
  /** Whether symbols are checked at all (each check may cost exchangeInfo requests). */
  readonly verify: boolean;
  /** How old a cached answer a verification accepts. */
  readonly verifyMaxAgeMs: number;
  readonly now: () => number;
  readonly logger: Logger;
}

export class ExchangeInfo {
  private readonly cache = new Map<Market, { at: number; infos: readonly SymbolInfo[] }>();

  constructor(private readonly options: ExchangeInfoOptions) {}

  /** The market's symbols, from the cache when the answer is at most `maxAgeMs` old. */
  async infos(market: Market, maxAgeMs: number): Promise<readonly SymbolInfo[]> {
    const { now, rest } = this.options;
    const cached = this.cache.get(market);
    if (cached !== undefined && now() - cached.at <= maxAgeMs) return cached.infos;
    const infos = await rest.exchangeInfo(market);
    this.cache.set(market, { at: now(), infos });
    return infos;
  }

  /**
   * Warnings for the file's explicit symbols that exchangeInfo does not list (a typo is
   * published anyway: the file is the operator's word); `undefined` when verification is off.
   */
  async verifyFile(file: SymbolFile, label: string): Promise<string[] | undefined> {
    if (!this.options.verify) return undefined;
    const warnings: string[] = [];
    for (const market of MARKETS) {
      const listed = file.symbols[market];
      if (listed.length === 0) continue;
      let known: Set<string>;
      try {
        known = await this.known(market);
      } catch (err) {
        warnings.push(`could not verify the ${market} symbols: exchangeInfo failed (${err instanceof Error ? err.message : String(err)})`);
        continue;
      }
      for (const symbol of listed) {
        if (!known.has(symbol)) warnings.push(`${label}: ${market} symbol ${JSON.stringify(symbol)} is not listed in ${market} exchangeInfo`);
      }
    }
    return warnings;
  }

  /**
   * Why an admin API addition is refused: the first symbol exchangeInfo does not list, or
   * `undefined` (all listed, verification off, or exchangeInfo unreachable — then accepted).
   */
  async unlisted(items: readonly MarketSymbolInput[]): Promise<string | undefined> {
    if (!this.options.verify) return undefined;
    for (const market of MARKETS) {
      const mine = items.filter((i) => i.market === market);
      if (mine.length === 0) continue;
      let known: Set<string>;
      try {
        known = await this.known(market);
      } catch (err) {
        this.options.logger.warn({ err, market }, 'could not verify admin API symbols against exchangeInfo; accepting them');
        continue;
      }
      const missing = mine.find((i) => !known.has(i.symbol));
      if (missing !== undefined) return `${market} symbol ${JSON.stringify(missing.symbol)} is not listed in ${market} exchangeInfo`;
    }
    return undefined;
  }

  private async known(market: Market): Promise<Set<string>> {
    return new Set((await this.infos(market, this.options.verifyMaxAgeMs)).map((i) => i.symbol));
  }
}
