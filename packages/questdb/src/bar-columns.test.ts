import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBuffer, SenderOptions } from '@questdb/nodejs-client';
import type { BarRow } from '@cvd/engine';
import { BAR_CLI_COLUMNS, BAR_COLUMN_SPECS, BAR_VALUE_COLUMNS, barAsTableRow, writeBarRow } from './bar-columns.js';
import { BAR_COLUMNS, barTableDdl } from './bar-table.js';
import { VIEW_COLUMNS } from './views.js';

const BAR: BarRow = {
  ts: Date.UTC(2024, 0, 1), market: 'usdm', symbol: 'BTCUSDT',
  open: '100.5', high: '101', low: '100', close: '100.75',
  volume: '3.00000001', buyVolume: '2.00000001', sellVolume: '1',
  quoteVolume: '301.5', buyQuoteVolume: '201', sellQuoteVolume: '100.5',
  delta: '1.00000001', quoteDelta: '100.5',
  cvdOpen: '0', cvdHigh: '2', cvdLow: '-0.5', cvdClose: '1.5',
  trades: 7, aggTrades: 3, firstAggId: 10, lastAggId: 12, missingAggIds: 1, recovered: 0, final: true,
};
const UPDATED_AT = Date.UTC(2024, 0, 1, 0, 1, 30);
const names = BAR_COLUMN_SPECS.map((c) => c.name);

function ilpLine(): string {
  const buf = createBuffer(new SenderOptions('http::addr=localhost:9000;protocol_version=1'));
  writeBarRow(buf, 'cvd_bars_1m', BAR, UPDATED_AT);
  return String(buf.toBufferNew());
}

test('the DDL declares exactly the table columns, in order, with their SQL types', () => {
  const list = /^CREATE TABLE IF NOT EXISTS bars_x \((.*)\) TIMESTAMP\(ts\) PARTITION BY DAY WAL DEDUP UPSERT KEYS\(ts, market, symbol\)$/.exec(barTableDdl('bars_x'));
  assert.ok(list !== null);
  const declared = (list[1] as string).split(', ').map((d) => [d.slice(0, d.indexOf(' ')), d.slice(d.indexOf(' ') + 1)]);
  assert.deepEqual(declared, BAR_COLUMN_SPECS.map((c) => [c.name, c.sqlType]));
  assert.deepEqual(BAR_COLUMNS.map(([n]) => n), names);
  assert.equal(new Set(names).size, names.length, 'column names are unique');
});

test('the ILP row carries exactly the table columns: symbols as tags, the rest as fields, ts as the timestamp', () => {
  const m = /^cvd_bars_1m,(\S+) (\S+) (\d+)\n$/.exec(ilpLine());
  assert.ok(m !== null);
  const keys = (part: string): string[] => part.split(',').map((kv) => kv.slice(0, kv.indexOf('=')));
  const tags = keys(m[1] as string);
  const fields = keys(m[2] as string);
  assert.deepEqual(tags, ['market', 'symbol']);
  assert.deepEqual([...tags, ...fields].sort(), names.filter((n) => n !== 'ts').sort());
  assert.deepEqual(fields, names.filter((n) => !['ts', 'market', 'symbol'].includes(n)), 'fields in table order');
  assert.equal(m[3], `${BAR.ts}000000`, 'designated timestamp in ns');
});

test('the ILP row is byte-for-byte the line BarWriter always wrote', () => {
  assert.equal(
    ilpLine(),
    'cvd_bars_1m,market=usdm,symbol=BTCUSDT open=100.5,high=101,low=100,close=100.75,volume=3.00000001,' +
      'buy_volume=2.00000001,sell_volume=1,quote_volume=301.5,buy_quote_volume=201,sell_quote_volume=100.5,' +
      'delta=1.00000001,quote_delta=100.5,cvd_open=0,cvd_high=2,cvd_low=-0.5,cvd_close=1.5,trades=7i,agg_trades=3i,' +
      'first_agg_id=10i,last_agg_id=12i,missing_agg_ids=1i,recovered=0i,final=t,updated_at=1704067290000000t,' +
      'delta_exact="1.00000001",cvd_close_exact="1.5" 1704067200000000000\n',
  );
});

test('test rows: every column but updated_at, doubles as numbers, exact strings kept', () => {
  const row = barAsTableRow(BAR);
  assert.deepEqual(Object.keys(row), names.filter((n) => n !== 'updated_at'));
  assert.deepEqual(BAR_VALUE_COLUMNS, Object.keys(row));
  assert.equal(row.ts, '2024-01-01T00:00:00.000000Z');
  assert.equal(row.cvd_close, 1.5);
  assert.equal(row.cvd_close_exact, '1.5');
  assert.equal(row.delta_exact, '1.00000001');
  assert.equal(row.trades, 7);
  assert.equal(row.final, true);
});

test('views and the CLI aggregate columns of the table', () => {
  const viewNames = VIEW_COLUMNS.map(([n]) => n);
  assert.deepEqual(viewNames.filter((n) => n !== 'minutes'), names.filter((n) => !['ts', 'market', 'symbol', 'delta_exact'].includes(n)));
  assert.equal(viewNames.indexOf('minutes'), viewNames.indexOf('updated_at') - 1);
  for (const [name, agg] of BAR_CLI_COLUMNS) assert.ok(VIEW_COLUMNS.some(([n, a]) => n === name && a === agg), name);
  assert.deepEqual(BAR_CLI_COLUMNS.map(([n]) => n), [
    'open', 'high', 'low', 'close', 'volume', 'buy_volume', 'sell_volume', 'delta',
    'cvd_open', 'cvd_high', 'cvd_low', 'cvd_close', 'trades', 'missing_agg_ids', 'final',
  ]);
});
