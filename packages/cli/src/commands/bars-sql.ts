import { assertTableName, BAR_CLI_COLUMNS, TIMEFRAMES, viewName, type Timeframe } from '@cvd/questdb';
import { CliUsageError } from '../env.js';
import { sqlString, sqlTimestamp } from './data-args.js';

/**
 * Columns `cvd bars` shows, with their aggregate over 1m rows when a timeframe is computed with
 * SAMPLE BY: the bar table's `cli` columns (`BAR_COLUMN_SPECS` in `@cvd/questdb`), so the
 * aggregates are the views' own.
 */
export const BARS_COLUMNS = BAR_CLI_COLUMNS;

export function parseTimeframe(raw: string | undefined): Timeframe {
  const tf = raw ?? '1m';
  if (!(TIMEFRAMES as readonly string[]).includes(tf)) throw new CliUsageError(`--tf expects one of ${TIMEFRAMES.join(', ')}, got ${JSON.stringify(tf)}`);
  return tf as Timeframe;
}

export interface BarsQuery {
  table: string;
  market: string;
  symbol: string;
  tf: Timeframe;
  /** The last N bars (newest last). */
  last?: number;
  fromMs?: number;
  toMs?: number;
  /** For tf != 1m: whether the materialized view `viewName(tf, table)` exists. */
  viewExists: boolean;
}

function where(q: Pick<BarsQuery, 'market' | 'symbol' | 'fromMs' | 'toMs'>): string {
  const parts = [`market = ${sqlString(q.market)}`, `symbol = ${sqlString(q.symbol)}`];
  if (q.fromMs !== undefined) parts.push(`ts >= ${sqlTimestamp(q.fromMs)}`);
  if (q.toMs !== undefined) parts.push(`ts < ${sqlTimestamp(q.toMs)}`);
  return parts.join(' AND ');
}

/**
 * SQL for `cvd bars`: the 1m table, the timeframe's materialized view when it exists, else the
 * timeframe computed from the 1m rows with SAMPLE BY (same aggregates as the views). Rows come
 * newest first when `last` is set (the caller reverses them), oldest first otherwise.
 */
export function barsSql(q: BarsQuery): string {
  assertTableName(q.table);
  const cols = BARS_COLUMNS.map(([c]) => c).join(', ');
  const order = q.last !== undefined ? ` ORDER BY ts DESC LIMIT ${Math.floor(q.last)}` : ' ORDER BY ts';
  if (q.tf === '1m' || q.viewExists) {
    const table = q.tf === '1m' ? q.table : viewName(q.tf, q.table);
    return `SELECT ts, ${cols} FROM ${table} WHERE ${where(q)}${order}`;
  }
  const aggs = BARS_COLUMNS.map(([c, agg]) => `${agg} ${c}`).join(', ');
  return `SELECT * FROM (SELECT ts, ${aggs} FROM ${q.table} WHERE ${where(q)} SAMPLE BY ${q.tf})${order}`;
}

/** Whether a table or materialized view of that name exists. */
export function tableExistsSql(name: string): string {
  return `SELECT table_name FROM tables() WHERE table_name = ${sqlString(assertTableName(name))}`;
}

/** Markets in which the symbol has bars (to resolve a symbol given without a market). */
export function marketsOfSymbolSql(table: string, symbol: string): string {
  return `SELECT DISTINCT market FROM ${assertTableName(table)} WHERE symbol = ${sqlString(symbol)}`;
}

/** Every column of the 1m table for a symbol and a [from, to) range, oldest first (export). */
export function exportSql(table: string, market: string, symbol: string, fromMs: number, toMs: number): string {
  return `SELECT * FROM ${assertTableName(table)} WHERE ${where({ market, symbol, fromMs, toMs })} ORDER BY ts`;
}

/** The newest bar of each of these symbols (or of all symbols, newest first, at most `limit`). */
export function latestBarsSql(table: string, keys: { market: string; symbol: string }[] | undefined, limit: number): string {
  assertTableName(table);
  const filter = keys?.length ? ` WHERE (${keys.map((k) => `(market = ${sqlString(k.market)} AND symbol = ${sqlString(k.symbol)})`).join(' OR ')})` : '';
  return `SELECT * FROM ${table}${filter} LATEST ON ts PARTITION BY market, symbol`.concat(keys?.length ? '' : ` ORDER BY ts DESC LIMIT ${Math.floor(limit)}`);
}

/** Most active symbols over the last `minutes` minutes of bars (by trade count). */
export function mostActiveSql(table: string, sinceMs: number, limit: number): string {
  return `SELECT market, symbol, sum(trades) n FROM ${assertTableName(table)} WHERE ts >= ${sqlTimestamp(sinceMs)} ORDER BY n DESC LIMIT ${Math.floor(limit)}`;
}
