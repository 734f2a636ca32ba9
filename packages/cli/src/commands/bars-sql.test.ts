import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barsSql, exportSql, latestBarsSql, marketsOfSymbolSql, mostActiveSql, parseTimeframe, tableExistsSql } from './bars-sql.js';

const T0 = Date.parse('2024-05-01T00:00:00Z');

test('barsSql: 1m from the table, a view when it exists, SAMPLE BY otherwise', () => {
  assert.equal(
    barsSql({ table: 'cvd_bars_1m', market: 'usdm', symbol: 'BTCUSDT', tf: '1m', last: 10, viewExists: false }),
    "SELECT ts, open, high, low, close, volume, buy_volume, sell_volume, delta, cvd_open, cvd_high, cvd_low, cvd_close, trades, missing_agg_ids, final FROM cvd_bars_1m WHERE market = 'usdm' AND symbol = 'BTCUSDT' ORDER BY ts DESC LIMIT 10",
  );
  assert.match(barsSql({ table: 'cvd_bars_1m', market: 'usdm', symbol: 'BTCUSDT', tf: '1h', last: 3, viewExists: true }), /FROM cvd_bars_1h WHERE market = 'usdm' AND symbol = 'BTCUSDT' ORDER BY ts DESC LIMIT 3$/);
  const s = barsSql({ table: 'cvd_bars_1m', market: 'spot', symbol: 'ETHUSDT', tf: '4h', fromMs: T0, toMs: T0 + 86_400_000, viewExists: false });
  assert.equal(
    s,
    "SELECT * FROM (SELECT ts, first(open) open, max(high) high, min(low) low, last(close) close, sum(volume) volume, sum(buy_volume) buy_volume, sum(sell_volume) sell_volume, sum(delta) delta, first(cvd_open) cvd_open, max(cvd_high) cvd_high, min(cvd_low) cvd_low, last(cvd_close) cvd_close, sum(trades) trades, sum(missing_agg_ids) missing_agg_ids, bool_and(final) final FROM cvd_bars_1m WHERE market = 'spot' AND symbol = 'ETHUSDT' AND ts >= '2024-05-01T00:00:00.000Z' AND ts < '2024-05-02T00:00:00.000Z' SAMPLE BY 4h) ORDER BY ts",
  );
  assert.match(barsSql({ table: 'other', market: 'usdm', symbol: 'X', tf: '5m', last: 1, viewExists: true }), /FROM other_5m /);
});

test('bar SQL escapes symbols and refuses bad table names', () => {
  const s = barsSql({ table: 'cvd_bars_1m', market: 'usdm', symbol: "X' OR '1'='1", tf: '1m', last: 1, viewExists: false });
  assert.match(s, /symbol = 'X'' OR ''1''=''1'/);
  assert.throws(() => barsSql({ table: 'x; drop', market: 'usdm', symbol: 'X', tf: '1m', viewExists: false }), /invalid QuestDB table name/);
  assert.equal(tableExistsSql('cvd_bars_5m'), "SELECT table_name FROM tables() WHERE table_name = 'cvd_bars_5m'");
  assert.equal(marketsOfSymbolSql('cvd_bars_1m', "a'b"), "SELECT DISTINCT market FROM cvd_bars_1m WHERE symbol = 'a''b'");
  assert.equal(
    exportSql('cvd_bars_1m', 'coinm', 'BTCUSD_PERP', T0, T0 + 60_000),
    "SELECT * FROM cvd_bars_1m WHERE market = 'coinm' AND symbol = 'BTCUSD_PERP' AND ts >= '2024-05-01T00:00:00.000Z' AND ts < '2024-05-01T00:01:00.000Z' ORDER BY ts",
  );
  assert.equal(latestBarsSql('t', [{ market: 'usdm', symbol: 'A' }, { market: 'spot', symbol: "B'" }], 5), "SELECT * FROM t WHERE ((market = 'usdm' AND symbol = 'A') OR (market = 'spot' AND symbol = 'B''')) LATEST ON ts PARTITION BY market, symbol");
  assert.equal(latestBarsSql('t', undefined, 5), 'SELECT * FROM t LATEST ON ts PARTITION BY market, symbol ORDER BY ts DESC LIMIT 5');
  assert.match(mostActiveSql('t', T0, 7), /WHERE ts >= '2024-05-01T00:00:00.000Z' ORDER BY n DESC LIMIT 7$/);
});

test('parseTimeframe', () => {
  assert.equal(parseTimeframe(undefined), '1m');
  for (const tf of ['1m', '5m', '15m', '1h', '4h', '1d']) assert.equal(parseTimeframe(tf), tf);
  assert.throws(() => parseTimeframe('2m'), /--tf expects one of 1m, 5m, 15m, 1h, 4h, 1d/);
});
