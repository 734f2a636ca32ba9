/**
 * The `cvd_bars_1m` table (DESIGN §4). Column names may grow; existing ones keep their meaning.
 * The DOUBLE columns are the contract for queries and charts; `delta_exact` and
 * `cvd_close_exact` carry the exact decimal strings for users who need them (QuestDB DOUBLE
 * cannot represent every 8-decimal value).
 */
export const BAR_COLUMNS = [
  ['ts', 'TIMESTAMP'],
  ['market', 'SYMBOL CAPACITY 8 CACHE'],
  ['symbol', 'SYMBOL CAPACITY 4096 CACHE'],
  ['open', 'DOUBLE'],
  ['high', 'DOUBLE'],
  ['low', 'DOUBLE'],
  ['close', 'DOUBLE'],
  ['volume', 'DOUBLE'],
  ['buy_volume', 'DOUBLE'],
  ['sell_volume', 'DOUBLE'],
  ['quote_volume', 'DOUBLE'],
  ['buy_quote_volume', 'DOUBLE'],
  ['sell_quote_volume', 'DOUBLE'],
  ['delta', 'DOUBLE'],
  ['quote_delta', 'DOUBLE'],
  ['cvd_open', 'DOUBLE'],
  ['cvd_high', 'DOUBLE'],
  ['cvd_low', 'DOUBLE'],
  ['cvd_close', 'DOUBLE'],
  ['trades', 'LONG'],
  ['agg_trades', 'LONG'],
  ['first_agg_id', 'LONG'],
  ['last_agg_id', 'LONG'],
  ['missing_agg_ids', 'LONG'],
  ['recovered', 'LONG'],
  ['final', 'BOOLEAN'],
  ['updated_at', 'TIMESTAMP'],
  ['delta_exact', 'VARCHAR'],
  ['cvd_close_exact', 'VARCHAR'],
] as const;

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
