import { barAggregates, type BarViewColumnName } from './bar-columns.js';
import { assertTableName, DEFAULT_BAR_TABLE } from './bar-table.js';
import type { ExecResult } from './sql.js';

/**
 * Multi-timeframe bars as QuestDB materialized views over the 1-minute bar table.
 *
 * Every view is `SELECT … FROM <base> SAMPLE BY <tf>` straight over the 1m table (not chained
 * view-over-view), so each view row is by definition the aggregate of the 1m rows in its
 * bucket. Buckets are aligned to the UTC calendar (QuestDB's default `ALIGN TO CALENDAR`):
 * 4h bars open at 00/04/08/… UTC, 1d bars at 00:00 UTC.
 *
 * Refresh is `IMMEDIATE` (QuestDB's default): after every committed transaction of the base
 * table the view recomputes the buckets that transaction touched *from the base table*, so a
 * DEDUP upsert that revises a 1m bar (a forming bar growing, a late trade, a bar turning
 * final) revises the view bucket too — `first`/`last` are taken in `ts` order over the rows
 * the base table holds after the upsert. (Checked against QuestDB 9.3.4; see views.it.test.ts.)
 *
 * `final` on a view is `bool_and(final)`: every 1m bar the bucket holds is final. A view row
 * cannot know about minutes of its bucket that have no row yet, so a bucket is *closed* only
 * when also `ts + interval` has passed; readers that need "closed" add that condition
 * (the web service does: `final AND dateadd(…, ts) <= now()`).
 */

/** The 1m table's own timeframe and the views' timeframes, shortest first. */
export const TIMEFRAMES = ['1m', '5m', '15m', '1h', '4h', '1d'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];
export const VIEW_TIMEFRAMES = ['5m', '15m', '1h', '4h', '1d'] as const satisfies readonly Timeframe[];
export type ViewTimeframe = (typeof VIEW_TIMEFRAMES)[number];

/** Bucket length of each timeframe in milliseconds. */
export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  '1m': 60_000,
  '5m': 5 * 60_000,
  '15m': 15 * 60_000,
  '1h': 60 * 60_000,
  '4h': 4 * 60 * 60_000,
  '1d': 24 * 60 * 60_000,
};

/**
 * Partitioning per view: roughly a few hundred rows per symbol per partition
 * (5m: 288 a day; 15m: 672 a week; 1h: ~720 a month; 4h: ~2190 a year; 1d: 365 a year).
 */
export const VIEW_PARTITION_BY: Readonly<Record<ViewTimeframe, 'DAY' | 'WEEK' | 'MONTH' | 'YEAR'>> = {
  '5m': 'DAY',
  '15m': 'WEEK',
  '1h': 'MONTH',
  '4h': 'YEAR',
  '1d': 'YEAR',
};

/**
 * The view's columns as `[name, aggregate over the 1m rows]`, generated from the bar table
 * (`BAR_COLUMN_SPECS`' `view` aggregates): same names and meanings as the 1m table, plus
 * `minutes` (how many 1m bars the bucket holds), placed before `updated_at` as the views were
 * first created. The exact decimal columns: `cvd_close_exact` is the last one (exact);
 * `delta_exact` has no exact sum in SQL and is left out — the exact window delta is
 * `cvd_close_exact − previous bucket's cvd_close_exact`.
 */
export const VIEW_COLUMNS: ReadonlyArray<readonly [BarViewColumnName | 'minutes', string]> = (() => {
  const cols: Array<readonly [BarViewColumnName | 'minutes', string]> = barAggregates();
  cols.splice(cols.findIndex(([n]) => n === 'updated_at'), 0, ['minutes', 'count()']);
  return cols;
})();

/**
 * The table holding `tf` bars for a base table: the base itself for `1m`; for the default
 * base `cvd_bars_1m` the views are `cvd_bars_5m`, `cvd_bars_15m`, …; for any other base
 * `<base>_5m`, `<base>_15m`, ….
 */
export function viewName(tf: Timeframe, baseTable: string = DEFAULT_BAR_TABLE): string {
  assertTableName(baseTable);
  if (tf === '1m') return baseTable;
  const name = baseTable === DEFAULT_BAR_TABLE ? `cvd_bars_${tf}` : `${baseTable}_${tf}`;
  return assertTableName(name);
}

/** `{ '1m': base, '5m': …, … }` for a base table. */
export function viewNames(baseTable: string = DEFAULT_BAR_TABLE): Readonly<Record<Timeframe, string>> {
  return Object.fromEntries(TIMEFRAMES.map((tf) => [tf, viewName(tf, baseTable)])) as Record<Timeframe, string>;
}

/** `CREATE MATERIALIZED VIEW IF NOT EXISTS` for one timeframe. */
export function viewDdl(tf: ViewTimeframe, baseTable: string = DEFAULT_BAR_TABLE): string {
  const cols = VIEW_COLUMNS.map(([name, agg]) => `${agg} ${name}`).join(', ');
  return (
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${viewName(tf, baseTable)} AS (` +
    `SELECT ts, market, symbol, ${cols} FROM ${assertTableName(baseTable)} SAMPLE BY ${tf}` +
    `) PARTITION BY ${VIEW_PARTITION_BY[tf]}`
  );
}

/** The DDL of every view, shortest timeframe first. */
export function viewDdls(baseTable: string = DEFAULT_BAR_TABLE): string[] {
  return VIEW_TIMEFRAMES.map((tf) => viewDdl(tf, baseTable));
}

/**
 * Creates the views that do not exist yet (the base table must exist: QuestDB checks it).
 * Existing views are left as they are — a changed definition needs `DROP MATERIALIZED VIEW`
 * first. Returns the view names. Errors are the client's (`QuestDbError`, retriable when
 * QuestDB was unreachable).
 */
export async function ensureViews(sql: { exec(query: string): Promise<ExecResult> }, baseTable: string = DEFAULT_BAR_TABLE): Promise<string[]> {
  for (const ddl of viewDdls(baseTable)) await sql.exec(ddl);
  return VIEW_TIMEFRAMES.map((tf) => viewName(tf, baseTable));
}

/**
 * Whether every view of `baseTable` has caught up: the base table's WAL is applied, each view
 * has refreshed up to the base table's last transaction and applied its own WAL. For tests
 * and tools that write bars and then read a view.
 */
export async function viewsRefreshed(sql: { exec(query: string): Promise<ExecResult> }, baseTable: string = DEFAULT_BAR_TABLE): Promise<boolean> {
  const rows = async (q: string): Promise<unknown[][]> => (await sql.exec(q)).dataset;
  const names = VIEW_TIMEFRAMES.map((tf) => viewName(tf, baseTable));
  const wal = await rows(`SELECT name, writerTxn, sequencerTxn, suspended FROM wal_tables() WHERE name IN (${[baseTable, ...names].map((n) => `'${assertTableName(n)}'`).join(', ')})`);
  if (wal.length !== names.length + 1 || wal.some(([, w, s, suspended]) => w !== s || suspended === true)) return false;
  const views = await rows(`SELECT view_name, view_status, refresh_base_table_txn, base_table_txn FROM materialized_views() WHERE base_table_name = '${assertTableName(baseTable)}'`);
  return views.length === names.length && views.every(([, status, refreshed, base]) => status === 'valid' && refreshed === base);
}
