import type { BarRow } from '@cvd/engine';

/**
 * The one table of the bar's columns (DESIGN §4): every other description of a bar row is
 * generated from it — the `CREATE TABLE` DDL (`barTableDdl`), the ILP row (`writeBarRow`,
 * used by `BarWriter`), the rows tests compare with (`barAsTableRow`, `BAR_VALUE_COLUMNS`),
 * the materialized views' aggregates (`VIEW_COLUMNS`) and the columns `cvd bars` shows and
 * samples (the CLI's `BARS_COLUMNS`).
 *
 * **Adding a column is a one-line change here**: one entry with its name, SQL type, ILP kind,
 * accessor from the engine's `BarRow`, and optionally its view aggregate and whether the CLI
 * shows it. Append new columns at the end: QuestDB adds a column to an existing table only by
 * `ALTER TABLE … ADD COLUMN` (the DDL is `IF NOT EXISTS`), and existing names keep their
 * meaning. The DOUBLE columns are the contract for queries and charts; `delta_exact` and
 * `cvd_close_exact` carry the exact decimal strings (a DOUBLE cannot hold every 8-decimal value).
 */

/**
 * How a column travels over ILP. `designated-timestamp` is the row's `at(…)` (one per table);
 * `symbol` columns go first on the line (ILP puts tags before fields), the others in table
 * order; `write-time` is not bar data but the time of the write (`updated_at`).
 */
export type IlpKind = 'designated-timestamp' | 'symbol' | 'double' | 'long' | 'boolean' | 'varchar' | 'write-time';

/** An aggregate over the 1m rows of a bucket (views and the CLI's SAMPLE BY). */
export type BarAggregate = 'first' | 'last' | 'min' | 'max' | 'sum' | 'bool_and';

interface ColumnBase<N extends string = string> {
  readonly name: N;
  /** The column's type in the DDL, e.g. `DOUBLE`, `SYMBOL CAPACITY 8 CACHE`. */
  readonly sqlType: string;
  /** The column's aggregate in the multi-timeframe views; absent: not a view column (the
   * key columns `ts`/`market`/`symbol` are always there, grouped by). */
  readonly view?: BarAggregate;
  /** `cvd bars` shows it (a view aggregate is then required). @defaultValue false */
  readonly cli?: boolean;
}

/** One column: its kind fixes what the accessor returns. */
export type BarColumnSpec =
  | (ColumnBase & { readonly ilp: 'designated-timestamp'; readonly get: (bar: BarRow) => number })
  | (ColumnBase & { readonly ilp: 'symbol' | 'varchar'; readonly get: (bar: BarRow) => string })
  /** A decimal string of the engine, stored as the nearest double. */
  | (ColumnBase & { readonly ilp: 'double'; readonly get: (bar: BarRow) => string })
  | (ColumnBase & { readonly ilp: 'long'; readonly get: (bar: BarRow) => number })
  | (ColumnBase & { readonly ilp: 'boolean'; readonly get: (bar: BarRow) => boolean })
  | (ColumnBase & { readonly ilp: 'write-time'; readonly get?: undefined });

/** The `cvd_bars_1m` columns, in table order. */
export const BAR_COLUMN_SPECS = [
  { name: 'ts', sqlType: 'TIMESTAMP', ilp: 'designated-timestamp', get: (b) => b.ts },
  { name: 'market', sqlType: 'SYMBOL CAPACITY 8 CACHE', ilp: 'symbol', get: (b) => b.market },
  { name: 'symbol', sqlType: 'SYMBOL CAPACITY 4096 CACHE', ilp: 'symbol', get: (b) => b.symbol },
  { name: 'open', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.open, view: 'first', cli: true },
  { name: 'high', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.high, view: 'max', cli: true },
  { name: 'low', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.low, view: 'min', cli: true },
  { name: 'close', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.close, view: 'last', cli: true },
  { name: 'volume', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.volume, view: 'sum', cli: true },
  { name: 'buy_volume', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.buyVolume, view: 'sum', cli: true },
  { name: 'sell_volume', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.sellVolume, view: 'sum', cli: true },
  { name: 'quote_volume', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.quoteVolume, view: 'sum' },
  { name: 'buy_quote_volume', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.buyQuoteVolume, view: 'sum' },
  { name: 'sell_quote_volume', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.sellQuoteVolume, view: 'sum' },
  { name: 'delta', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.delta, view: 'sum', cli: true },
  { name: 'quote_delta', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.quoteDelta, view: 'sum' },
  { name: 'cvd_open', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.cvdOpen, view: 'first', cli: true },
  { name: 'cvd_high', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.cvdHigh, view: 'max', cli: true },
  { name: 'cvd_low', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.cvdLow, view: 'min', cli: true },
  { name: 'cvd_close', sqlType: 'DOUBLE', ilp: 'double', get: (b) => b.cvdClose, view: 'last', cli: true },
  { name: 'trades', sqlType: 'LONG', ilp: 'long', get: (b) => b.trades, view: 'sum', cli: true },
  { name: 'agg_trades', sqlType: 'LONG', ilp: 'long', get: (b) => b.aggTrades, view: 'sum' },
  { name: 'first_agg_id', sqlType: 'LONG', ilp: 'long', get: (b) => b.firstAggId, view: 'min' },
  { name: 'last_agg_id', sqlType: 'LONG', ilp: 'long', get: (b) => b.lastAggId, view: 'max' },
  { name: 'missing_agg_ids', sqlType: 'LONG', ilp: 'long', get: (b) => b.missingAggIds, view: 'sum', cli: true },
  { name: 'recovered', sqlType: 'LONG', ilp: 'long', get: (b) => b.recovered, view: 'sum' },
  { name: 'final', sqlType: 'BOOLEAN', ilp: 'boolean', get: (b) => b.final, view: 'bool_and', cli: true },
  { name: 'updated_at', sqlType: 'TIMESTAMP', ilp: 'write-time', view: 'max' },
  // No exact sum in SQL, so no view column: the exact window delta is the difference of two
  // buckets' cvd_close_exact.
  { name: 'delta_exact', sqlType: 'VARCHAR', ilp: 'varchar', get: (b) => b.delta },
  { name: 'cvd_close_exact', sqlType: 'VARCHAR', ilp: 'varchar', get: (b) => b.cvdClose, view: 'last' },
] as const satisfies readonly BarColumnSpec[];

export type BarColumnName = (typeof BAR_COLUMN_SPECS)[number]['name'];

type Spec = (typeof BAR_COLUMN_SPECS)[number];
/** Columns that hold bar data (all but the write time). */
export type BarValueColumnName = Exclude<Spec, { ilp: 'write-time' }>['name'];
/** Columns with a view aggregate. */
export type BarViewColumnName = Extract<Spec, { view: BarAggregate }>['name'];

const SPECS: readonly BarColumnSpec[] = BAR_COLUMN_SPECS;

/**
 * The part of the QuestDB client's `Sender` (and its `SenderBuffer`) a bar row needs; `at`
 * returns whatever the builder's `at` returns (a promise for the `Sender`).
 */
export interface IlpRowBuilder<Done> {
  table(name: string): IlpRowBuilder<Done>;
  symbol(name: string, value: string): IlpRowBuilder<Done>;
  floatColumn(name: string, value: number): IlpRowBuilder<Done>;
  intColumn(name: string, value: number): IlpRowBuilder<Done>;
  booleanColumn(name: string, value: boolean): IlpRowBuilder<Done>;
  stringColumn(name: string, value: string): IlpRowBuilder<Done>;
  timestampColumn(name: string, value: bigint, unit: 'us'): IlpRowBuilder<Done>;
  at(timestamp: number, unit: 'ms'): Done;
}

/**
 * Appends one bar as an ILP row of `table`: the symbol columns, then every other column in
 * table order, then the designated timestamp. `updatedAtMs` fills the write-time column.
 */
export function writeBarRow<Done>(builder: IlpRowBuilder<Done>, table: string, bar: BarRow, updatedAtMs: number): Done {
  let line = builder.table(table);
  for (const c of SPECS) if (c.ilp === 'symbol') line = line.symbol(c.name, c.get(bar));
  let at: number | undefined;
  for (const c of SPECS) {
    switch (c.ilp) {
      case 'designated-timestamp':
        at = c.get(bar);
        break;
      case 'symbol':
        break;
      case 'double':
        line = line.floatColumn(c.name, Number(c.get(bar)));
        break;
      case 'long':
        line = line.intColumn(c.name, c.get(bar));
        break;
      case 'boolean':
        line = line.booleanColumn(c.name, c.get(bar));
        break;
      case 'varchar':
        line = line.stringColumn(c.name, c.get(bar));
        break;
      case 'write-time':
        line = line.timestampColumn(c.name, BigInt(updatedAtMs) * 1000n, 'us');
        break;
    }
  }
  if (at === undefined) throw new Error('the bar table has no designated timestamp column');
  return line.at(at, 'ms');
}

/**
 * An engine bar as QuestDB's `/exec` returns the written row (DOUBLE columns as the nearest
 * doubles, the designated timestamp in microsecond ISO form) — every column but the write
 * time (`updated_at`), keys in table order. Tests compare whole tables with it.
 */
export function barAsTableRow(bar: BarRow): Record<BarValueColumnName, unknown> {
  const row: Record<string, unknown> = {};
  for (const c of SPECS) {
    switch (c.ilp) {
      case 'designated-timestamp':
        row[c.name] = new Date(c.get(bar)).toISOString().replace('Z', '000Z');
        break;
      case 'double':
        row[c.name] = Number(c.get(bar));
        break;
      case 'write-time':
        break;
      default:
        row[c.name] = c.get(bar);
    }
  }
  return row as Record<BarValueColumnName, unknown>;
}

/** The columns `barAsTableRow` fills, in table order: every column but `updated_at`. */
export const BAR_VALUE_COLUMNS: readonly BarValueColumnName[] = SPECS.filter((c) => c.ilp !== 'write-time').map(
  (c) => c.name as BarValueColumnName,
);

/** `[name, aggregate expression]` of every column with a view aggregate, in table order. */
export function barAggregates(filter: (c: BarColumnSpec) => boolean = () => true): Array<[BarViewColumnName, string]> {
  return SPECS.filter((c) => c.view !== undefined && filter(c)).map((c) => [c.name as BarViewColumnName, `${c.view}(${c.name})`]);
}

/** `[name, aggregate expression]` of the columns `cvd bars` shows, in table order. */
export const BAR_CLI_COLUMNS: ReadonlyArray<readonly [BarViewColumnName, string]> = barAggregates((c) => c.cli === true);
