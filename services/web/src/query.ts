import { isMarket, isSymbol, MARKETS, type Market } from '@cvd/core';
import { TIMEFRAMES, type Timeframe } from '@cvd/questdb';
import { WebError } from './errors.js';

export const LIMIT = { min: 1, max: 5000, default: 500 } as const;

/** A validated `/api/bars` request. */
export interface BarsQuery {
  readonly market: Market;
  readonly symbol: string;
  readonly tf: Timeframe;
  /** Newest `limit` bars (of those at or after `sinceMs`). */
  readonly limit: number;
  /** Only bars with `ts >= sinceMs` (inclusive: the forming bar at `since` comes again). */
  readonly sinceMs?: number;
}

const PARAMS = ['market', 'symbol', 'tf', 'limit', 'since'] as const;
/** Earliest/latest `since` accepted: 2000-01-01 … 2100-01-01. */
const SINCE_RANGE = [Date.UTC(2000, 0, 1), Date.UTC(2100, 0, 1)] as const;

const bad = (message: string): WebError => new WebError('bad-request', message);

function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw bad(`${name}: given ${all.length} times, expected once`);
  return all[0];
}

/** `spot` / `usdm` / `coinm`, else a 400. */
export function parseMarket(raw: string | undefined): Market {
  if (raw === undefined || raw === '') throw bad(`market: required, one of ${MARKETS.join(', ')}`);
  if (!isMarket(raw)) throw bad(`market: expected one of ${MARKETS.join(', ')}`);
  return raw;
}

export function parseSymbol(raw: string | undefined): string {
  if (raw === undefined || raw === '') throw bad('symbol: required, e.g. BTCUSDT');
  // The pipeline's symbol rule. The SQL literal is escaped anyway ({@link sqlString}); the
  // rule just turns garbage into a clear 400.
  if (!isSymbol(raw)) throw bad('symbol: expected 1-64 characters without whitespace, quotes, backslash, control characters or any of @/?#&=%:');
  return raw;
}

export function parseTimeframe(raw: string | undefined): Timeframe {
  if (raw === undefined || raw === '') return '1m';
  if (!(TIMEFRAMES as readonly string[]).includes(raw)) throw bad(`tf: expected one of ${TIMEFRAMES.join(', ')}`);
  return raw as Timeframe;
}

export function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return LIMIT.default;
  const n = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= LIMIT.min && n <= LIMIT.max)) throw bad(`limit: expected an integer ${LIMIT.min}-${LIMIT.max}`);
  return n;
}

/** Epoch milliseconds (digits) or an ISO-8601 UTC time (`2024-05-01T12:00:00Z`). */
export function parseSince(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  let ms = Number.NaN;
  if (/^\d{1,15}$/.test(raw)) ms = Number(raw);
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?Z$/.test(raw)) ms = Date.parse(raw);
  if (!(ms >= SINCE_RANGE[0] && ms < SINCE_RANGE[1])) throw bad('since: expected epoch milliseconds or an ISO-8601 UTC time like 2024-05-01T12:00:00Z (years 2000-2099)');
  return ms;
}

/** Validates every `/api/bars` parameter; unknown or repeated parameters are refused too. */
export function parseBarsQuery(params: URLSearchParams): BarsQuery {
  for (const name of new Set(params.keys())) {
    if (!(PARAMS as readonly string[]).includes(name)) throw bad(`unknown parameter ${JSON.stringify(name.slice(0, 40))}; expected ${PARAMS.join(', ')}`);
  }
  const sinceMs = parseSince(single(params, 'since'));
  return {
    market: parseMarket(single(params, 'market')),
    symbol: parseSymbol(single(params, 'symbol')),
    tf: parseTimeframe(single(params, 'tf')),
    limit: parseLimit(single(params, 'limit')),
    ...(sinceMs === undefined ? {} : { sinceMs }),
  };
}
