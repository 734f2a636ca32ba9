import { TIMEFRAME_MS, assertTableName, viewName, type BarViewColumnName, type Timeframe } from '@cvd/questdb';
import type { BarsQuery } from './query.js';

/**
 * A QuestDB string literal: single quotes, an embedded `'` doubled (QuestDB has no backslash
 * escapes, so `\` is an ordinary character). NUL cannot be represented and is refused.
 */
export function sqlString(value: string): string {
  if (value.includes('\u0000')) throw new Error('a NUL character cannot be part of a QuestDB string literal');
  return `'${value.replaceAll("'", "''")}'`;
}

/** A timestamp literal from epoch ms; only digits and fixed characters reach the SQL. */
export function sqlTimestamp(ms: number): string {
  if (!Number.isFinite(ms)) throw new Error(`not a time: ${ms}`);
  return `'${new Date(ms).toISOString()}'`;
}

/**
 * The columns `/api/bars` returns (shared by the 1m table and its views): a chosen subset of
 * the bar table's view columns, checked against it by type (`BAR_COLUMN_SPECS`).
 */
export const BAR_API_COLUMNS = [
  'open', 'high', 'low', 'close', 'volume', 'buy_volume', 'sell_volume', 'delta',
  'cvd_open', 'cvd_high', 'cvd_low', 'cvd_close', 'cvd_close_exact', 'trades',
] as const satisfies readonly BarViewColumnName[];

/** `dateadd` unit and count of one bucket, for "has this bucket ended" in SQL. */
function bucketLength(tf: Timeframe): [unit: 'm' | 'h' | 'd', n: number] {
  const ms = TIMEFRAME_MS[tf];
  if (ms % 86_400_000 === 0) return ['d', ms / 86_400_000];
  if (ms % 3_600_000 === 0) return ['h', ms / 3_600_000];
  return ['m', ms / 60_000];
}

/**
 * The newest `limit` bars of one symbol, oldest first (QuestDB's `LIMIT -n` keeps ts order).
 * `final` of a view row additionally requires the bucket to have ended (`ts + tf <= now()`):
 * the view's `bool_and(final)` cannot know about minutes of the bucket that have no row yet.
 */
export function barsSql(q: BarsQuery, baseTable: string): string {
  const table = viewName(q.tf, assertTableName(baseTable));
  const [unit, n] = bucketLength(q.tf);
  const final = q.tf === '1m' ? 'final' : `final AND dateadd('${unit}', ${n}, ts) <= now() final`;
  const where = [`market = ${sqlString(q.market)}`, `symbol = ${sqlString(q.symbol)}`];
  if (q.sinceMs !== undefined) where.push(`ts >= ${sqlTimestamp(q.sinceMs)}`);
  const limit = Math.trunc(q.limit);
  if (!(limit >= 1)) throw new Error(`limit must be a positive integer, got ${q.limit}`);
  return `SELECT ts, ${BAR_API_COLUMNS.join(', ')}, ${final} FROM ${table} WHERE ${where.join(' AND ')} LIMIT -${limit}`;
}

/** Every (market, symbol) with its newest bar time; `LATEST ON` reads backwards, no full scan. */
export function symbolsSql(baseTable: string): string {
  return `SELECT market, symbol, ts FROM ${assertTableName(baseTable)} LATEST ON ts PARTITION BY market, symbol ORDER BY market, symbol`;
}
