import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BAR_COLUMNS } from './bar-table.js';
import { TIMEFRAME_MS, VIEW_COLUMNS, VIEW_TIMEFRAMES, viewDdl, viewDdls, viewName, viewNames } from './views.js';

test('view names: cvd_bars_<tf> for the default base, <base>_<tf> otherwise', () => {
  assert.deepEqual(viewNames(), { '1m': 'cvd_bars_1m', '5m': 'cvd_bars_5m', '15m': 'cvd_bars_15m', '1h': 'cvd_bars_1h', '4h': 'cvd_bars_4h', '1d': 'cvd_bars_1d' });
  assert.equal(viewName('15m', 'bars_x'), 'bars_x_15m');
  assert.equal(viewName('1m', 'bars_x'), 'bars_x');
  assert.throws(() => viewName('5m', 'bad name; DROP'), /invalid QuestDB table name/);
  assert.throws(() => viewName('1d', 'a'.repeat(127)), /invalid QuestDB table name/);
});

test('DDL: IF NOT EXISTS, SAMPLE BY over the base table, one aggregate per column, partitioning', () => {
  const ddl = viewDdl('5m', 'bars_x');
  assert.match(ddl, /^CREATE MATERIALIZED VIEW IF NOT EXISTS bars_x_5m AS \(SELECT ts, market, symbol, first\(open\) open, max\(high\) high, /);
  assert.match(ddl, / FROM bars_x SAMPLE BY 5m\) PARTITION BY DAY$/);
  assert.match(ddl, /bool_and\(final\) final/);
  assert.match(viewDdl('1d'), /FROM cvd_bars_1m SAMPLE BY 1d\) PARTITION BY YEAR$/);
  assert.deepEqual(viewDdls().length, VIEW_TIMEFRAMES.length);
});

test('every base column but the exact delta string has a view column of the same name', () => {
  const viewCols = new Set(VIEW_COLUMNS.map(([n]) => n));
  const missing = BAR_COLUMNS.map(([n]) => n).filter((n) => !['ts', 'market', 'symbol'].includes(n) && !viewCols.has(n as never));
  assert.deepEqual(missing, ['delta_exact']);
});

test('timeframe lengths', () => {
  assert.equal(TIMEFRAME_MS['4h'], 4 * 3_600_000);
  assert.equal(TIMEFRAME_MS['1d'], 86_400_000);
});
