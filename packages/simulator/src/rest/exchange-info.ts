/**
 * `exchangeInfo` bodies in each market's shape (spot `/api/v3/exchangeInfo`, USD-M
 * `/fapi/v1/exchangeInfo`, COIN-M `/dapi/v1/exchangeInfo` with `contractStatus`), limited to the
 * fields a market-data client reads.
 */
import { decimalPlaces } from '../decimal.js';
import type { MarketProtocolOptions } from '../market-profiles.js';
import type { Market, SymbolInfo } from '../types.js';

function filters(s: SymbolInfo): Record<string, unknown>[] {
  const pd = Math.max(decimalPlaces(s.tickSize), s.market === 'spot' ? 8 : 0);
  const qd = Math.max(decimalPlaces(s.stepSize), s.market === 'spot' ? 8 : 0);
  const pad = (v: string, d: number): string => {
    const have = decimalPlaces(v);
    if (have >= d) return v;
    return have === 0 ? `${v}.${'0'.repeat(d)}` : v + '0'.repeat(d - have);
  };
  return [
    { filterType: 'PRICE_FILTER', minPrice: pad(s.tickSize, pd), maxPrice: pad('1000000', pd), tickSize: pad(s.tickSize, pd) },
    { filterType: 'LOT_SIZE', minQty: pad(s.stepSize, qd), maxQty: pad('9000000', qd), stepSize: pad(s.stepSize, qd) },
  ];
}

function rateLimits(p: MarketProtocolOptions): Record<string, unknown>[] {
  return [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: p.restWeightLimit }];
}

export function exchangeInfo(market: Market, symbols: readonly SymbolInfo[], p: MarketProtocolOptions, now: number): unknown {
  const base = { timezone: 'UTC', serverTime: now, rateLimits: rateLimits(p), exchangeFilters: [] };
  switch (market) {
    case 'spot':
      return {
        ...base,
        symbols: symbols.map((s) => ({
          symbol: s.symbol,
          status: s.status,
          baseAsset: s.baseAsset,
          baseAssetPrecision: 8,
          quoteAsset: s.quoteAsset,
          quotePrecision: 8,
          quoteAssetPrecision: 8,
          orderTypes: ['LIMIT', 'MARKET'],
          isSpotTradingAllowed: true,
          isMarginTradingAllowed: false,
          filters: filters(s),
          permissions: [],
        })),
      };
    case 'usdm':
      return {
        ...base,
        futuresType: 'U_MARGINED',
        assets: [],
        symbols: symbols.map((s) => ({
          symbol: s.symbol,
          pair: s.symbol,
          contractType: s.contractType ?? 'PERPETUAL',
          deliveryDate: 4133404800000,
          onboardDate: 1569398400000,
          status: s.status,
          baseAsset: s.baseAsset,
          quoteAsset: s.quoteAsset,
          marginAsset: s.quoteAsset,
          pricePrecision: decimalPlaces(s.tickSize),
          quantityPrecision: decimalPlaces(s.stepSize),
          baseAssetPrecision: 8,
          quotePrecision: 8,
          underlyingType: 'COIN',
          filters: filters(s),
        })),
      };
    case 'coinm':
      return {
        ...base,
        symbols: symbols.map((s) => ({
          symbol: s.symbol,
          pair: s.symbol.split('_')[0] ?? s.symbol,
          contractType: s.contractType ?? 'PERPETUAL',
          deliveryDate: 4133404800000,
          onboardDate: 1597042800000,
          contractStatus: s.status,
          contractSize: s.contractSize ?? 10,
          marginAsset: s.baseAsset,
          baseAsset: s.baseAsset,
          quoteAsset: s.quoteAsset,
          pricePrecision: decimalPlaces(s.tickSize),
          quantityPrecision: decimalPlaces(s.stepSize),
          baseAssetPrecision: 8,
          quotePrecision: 8,
          filters: filters(s),
        })),
      };
  }
}
