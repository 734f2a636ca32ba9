import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barsSql, sqlString, sqlTimestamp, symbolsSql } from './sql.js';

test('string literals double embedded quotes; backslash is literal in QuestDB', () => {
  assert.equal(sqlString('BTCUSDT'), "'BTCUSDT'");
  assert.equal(sqlString("x' OR 1=1 --"), "'x'' OR 1=1 --'");
  assert.equal(sqlString("''"), "''''''");
  assert.equal(sqlString('a\\'), "'a\\'");
  assert.throws(() => sqlString('a\u0000b'), /NUL/);
});

test('hostile symbols stay inside one literal even when the validator is bypassed', () => {
  for (const s of ["x' OR 1=1 --", "'; DROP TABLE cvd_bars_1m; --", "x'' OR ''1''=''1"]) {
    const sql = barsSql({ market: 'usdm', symbol: s, tf: '1m', limit: 10 }, 'cvd_bars_1m');
    const literal = sqlString(s);
    assert.ok(sql.includes(`symbol = ${literal} LIMIT -10`), sql);
    // Outside the literal only our own SQL remains.
    assert.equal(sql.replace(literal, '?'), "SELECT ts, open, high, low, close, volume, buy_volume, sell_volume, delta, cvd_open, cvd_high, cvd_low, cvd_close, cvd_close_exact, trades, final FROM cvd_bars_1m WHERE market = 'usdm' AND symbol = ? LIMIT -10");
    // The literal is balanced: an even number of quotes inside.
    assert.equal((literal.slice(1, -1).match(/'/g) ?? []).length % 2, 0);
  }
});

test('bars SQL picks the view, adds since and the closed-bucket rule for views', () => {
  const sql = barsSql({ market: 'spot', symbol: 'ETHBTC', tf: '4h', limit: 50, sinceMs: Date.UTC(2024, 4, 1) }, 'cvd_bars_1m');
  assert.match(sql, / FROM cvd_bars_4h WHERE market = 'spot' AND symbol = 'ETHBTC' AND ts >= '2024-05-01T00:00:00.000Z' LIMIT -50$/);
  assert.match(sql, /final AND dateadd\('h', 4, ts\) <= now\(\) final FROM/);
  assert.match(barsSql({ market: 'spot', symbol: 'X', tf: '15m', limit: 1 }, 'my_bars'), /dateadd\('m', 15, ts\) <= now\(\) final FROM my_bars_15m /);
  assert.match(barsSql({ market: 'spot', symbol: 'X', tf: '1d', limit: 1 }, 'my_bars'), /dateadd\('d', 1, ts\).* FROM my_bars_1d /);
  assert.throws(() => barsSql({ market: 'spot', symbol: 'X', tf: '1m', limit: 1 }, 'bad table'), /invalid QuestDB table name/);
  assert.throws(() => barsSql({ market: 'spot', symbol: 'X', tf: '1m', limit: 0 }, 'cvd_bars_1m'), /limit/);
});

test('timestamps and symbols SQL', () => {
  assert.equal(sqlTimestamp(0), "'1970-01-01T00:00:00.000Z'");
  assert.throws(() => sqlTimestamp(Number.NaN), /not a time/);
  assert.equal(symbolsSql('cvd_bars_1m'), 'SELECT market, symbol, ts FROM cvd_bars_1m LATEST ON ts PARTITION BY market, symbol ORDER BY market, symbol');
});
