import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvField, csvLine, fullRow, isoSecond, legacyRow, plainNumber } from './csv.js';
import { parquetSql } from './export.js';

test('plainNumber: shortest round-trip digits without exponent', () => {
  assert.equal(plainNumber(1e-8), '0.00000001');
  assert.equal(plainNumber(1.23e-7), '0.000000123');
  assert.equal(plainNumber(-4.5e-7), '-0.00000045');
  assert.equal(plainNumber(0.1), '0.1');
  assert.equal(plainNumber(-12.5), '-12.5');
  assert.equal(plainNumber(1e21), '1000000000000000000000');
  assert.equal(plainNumber(1.5e22), '15000000000000000000000');
  assert.equal(plainNumber(0), '0');
  for (const n of [1e-8, 1.23e-7, 3.14159e-9, 9.99e-7]) assert.equal(Number(plainNumber(n)), n);
});

test('csv fields are quoted only when needed (RFC 4180)', () => {
  assert.equal(csvField('BTCUSDT'), 'BTCUSDT');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('x\ny'), '"x\ny"');
  assert.equal(csvField(' lead'), '" lead"');
  assert.equal(csvLine(['a', 'b,c', '']), 'a,"b,c",\n');
});

test('legacy layout: ISO minute, symbol, exact cvd and delta, plain volumes', () => {
  const row = { ts: '2024-05-01T12:03:00.000000Z', market: 'usdm', symbol: 'BTCUSDT', cvd_close: -0.30000000000000004, cvd_close_exact: '-0.3', buy_volume: 1e-8, sell_volume: 2.5, delta: -2.49999999, delta_exact: '-2.49999999' };
  assert.deepEqual(legacyRow(row), ['2024-05-01T12:03:00Z', 'BTCUSDT', '-0.3', '0.00000001', '2.5', '-2.49999999']);
  // Rows written before the exact columns existed fall back to the doubles.
  assert.deepEqual(legacyRow({ ...row, cvd_close_exact: null, delta_exact: null, cvd_close: -0.3 }), ['2024-05-01T12:03:00Z', 'BTCUSDT', '-0.3', '0.00000001', '2.5', '-2.49999999']);
  assert.equal(isoSecond(Date.parse('2024-05-01T00:00:00Z')), '2024-05-01T00:00:00Z');
});

test('full layout: every column, nulls empty, booleans and timestamps as text', () => {
  assert.deepEqual(fullRow(['ts', 'final', 'x', 'n', 's'], ['2024-05-01T12:03:00.000000Z', true, null, 1e-7, 'spot']), ['2024-05-01T12:03:00.000000Z', 'true', '', '0.0000001', 'spot']);
});

test('parquet SQL: legacy columns typed and named like the CSV, symbol escaped', () => {
  assert.equal(
    parquetSql('cvd_bars_1m', 'legacy', 'usdm', "A'B", 0, 60_000),
    `SELECT ts AS "timestamp", symbol, cvd_close AS cvd, buy_volume, sell_volume, delta FROM cvd_bars_1m WHERE market = 'usdm' AND symbol = 'A''B' AND ts >= '1970-01-01T00:00:00.000Z' AND ts < '1970-01-01T00:01:00.000Z' ORDER BY ts`,
  );
  assert.match(parquetSql('cvd_bars_1m', 'full', 'usdm', 'X', 0, 1), /^SELECT \* FROM cvd_bars_1m WHERE/);
});
