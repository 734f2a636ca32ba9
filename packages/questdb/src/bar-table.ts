import { BAR_COLUMN_SPECS } from './bar-columns.js';

/**
 * The `cvd_bars_1m` table's `[name, SQL type]` pairs in table order, generated from
 * `BAR_COLUMN_SPECS` (add a column there, not here).
 */
export const BAR_COLUMNS = BAR_COLUMN_SPECS.map((c) => [c.name, c.sqlType] as const);

export const DEFAULT_BAR_TABLE = 'cvd_bars_1m';

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,126}$/;

export function assertTableName(table: string): string {
  if (!NAME.test(table)) throw new Error(`invalid QuestDB table name ${JSON.stringify(table)}: letters, digits and _ only`);
  return table;
}

/** `CREATE TABLE IF NOT EXISTS` for the bar table: WAL, daily partitions, upsert on (ts, market, symbol). */
export function barTableDdl(table = DEFAULT_BAR_TABLE): string {
  const cols = BAR_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${assertTableName(table)} (${cols}) TIMESTAMP(ts) PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, market, symbol)`;
}
