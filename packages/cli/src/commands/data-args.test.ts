import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliUsageError } from '../env.js';
import { formatTable, parseMarketSymbol, parsePositiveInt, parseTime, sqlString, sqlTimestamp } from './data-args.js';
import { parseDataEnv } from './data-env.js';

const NOW = Date.parse('2024-05-01T12:34:56.789Z');

test('parseTime: ISO with and without offset (UTC), dates, epoch s/ms/µs, now and relative', () => {
  assert.equal(parseTime('from', '2024-05-01', NOW), Date.parse('2024-05-01T00:00:00Z'));
  assert.equal(parseTime('from', '2024-05-01T12:00', NOW), Date.parse('2024-05-01T12:00:00Z'));
  assert.equal(parseTime('from', '2024-05-01 12:00:30', NOW), Date.parse('2024-05-01T12:00:30Z'));
  assert.equal(parseTime('from', '2024-05-01T12:00Z', NOW), Date.parse('2024-05-01T12:00:00Z'));
  assert.equal(parseTime('from', '2024-05-01T14:00+02:00', NOW), Date.parse('2024-05-01T12:00:00Z'));
  assert.equal(parseTime('from', '2024-05-01T12:00:00.123456Z', NOW), Date.parse('2024-05-01T12:00:00.123Z'));
  assert.equal(parseTime('from', '1714564800000', NOW), 1714564800000);
  assert.equal(parseTime('from', '1714564800', NOW), 1714564800000);
  assert.equal(parseTime('from', '1714564800000123', NOW), 1714564800000);
  assert.equal(parseTime('from', 'now', NOW), NOW);
  assert.equal(parseTime('from', '-30m', NOW), NOW - 30 * 60_000);
  assert.equal(parseTime('from', 'now-2h', NOW), NOW - 2 * 3_600_000);
  assert.equal(parseTime('from', '-1d', NOW), NOW - 86_400_000);
  for (const bad of ['', 'yesterday', '2024-13-45', '2024-05-01T25:00', '12', '+2h', '2024/05/01']) {
    assert.throws(() => parseTime('from', bad, NOW), (e: Error) => e instanceof CliUsageError && /--from expects an ISO time/.test(e.message), bad);
  }
});

test('parseMarketSymbol: MARKET:SYMBOL, default market, non-ASCII, refusals', () => {
  assert.deepEqual(parseMarketSymbol('usdm:BTCUSDT'), { market: 'usdm', symbol: 'BTCUSDT' });
  assert.deepEqual(parseMarketSymbol('BTCUSD_PERP', 'coinm'), { market: 'coinm', symbol: 'BTCUSD_PERP' });
  assert.deepEqual(parseMarketSymbol('spot:币安人生USDT'), { market: 'spot', symbol: '币安人生USDT' });
  assert.throws(() => parseMarketSymbol('BTCUSDT'), /expected MARKET:SYMBOL/);
  assert.throws(() => parseMarketSymbol('futures:BTCUSDT'), /unknown market "futures"/);
  for (const bad of ["usdm:BTC'USDT", 'usdm:BTC USDT', 'usdm:', 'usdm:A:B', 'usdm:a/b', 'usdm:x\u0000']) assert.throws(() => parseMarketSymbol(bad), CliUsageError, bad);
});

test('sqlString doubles quotes and refuses NUL; sqlTimestamp is ISO UTC', () => {
  assert.equal(sqlString('BTCUSDT'), "'BTCUSDT'");
  assert.equal(sqlString("a'b"), "'a''b'");
  assert.equal(sqlString("'; DROP TABLE cvd_bars_1m; --"), "'''; DROP TABLE cvd_bars_1m; --'");
  assert.equal(sqlString('币安人生USDT'), "'币安人生USDT'");
  assert.throws(() => sqlString('a\u0000b'), /NUL/);
  assert.equal(sqlTimestamp(Date.parse('2024-05-01T12:00:00Z')), "'2024-05-01T12:00:00.000Z'");
  assert.throws(() => sqlTimestamp(Number.NaN), CliUsageError);
});

test('parsePositiveInt and formatTable', () => {
  assert.equal(parsePositiveInt('last', undefined, 30), 30);
  assert.equal(parsePositiveInt('last', '5', 30), 5);
  for (const bad of ['0', '-1', '1.5', 'x', '']) assert.throws(() => parsePositiveInt('last', bad, 30), /--last expects a whole number/);
  assert.equal(formatTable(['sym', 'cvd'], [['BTC', '1.5'], ['ETHUSDT', '-12']]), 'sym      cvd\n-------  ---\nBTC      1.5\nETHUSDT  -12');
});

test('parseDataEnv: defaults, overrides, one clear error per bad variable', () => {
  const d = parseDataEnv({});
  assert.equal(d.questdb.httpUrl, 'http://127.0.0.1:9000');
  assert.deepEqual(d.brokers, ['127.0.0.1:9092']);
  assert.equal(d.adminUrl, 'http://127.0.0.1:8081');
  assert.equal(d.adminToken, undefined);
  assert.equal(d.barTable, 'cvd_bars_1m');
  assert.equal(d.topics.trades, 'cvd.trades.v1');
  assert.deepEqual(d.ops, { config: 'http://127.0.0.1:9465', ingest: 'http://127.0.0.1:9464', aggregator: 'http://127.0.0.1:9466' });
  const o = parseDataEnv({ QUESTDB_HTTP_URL: 'http://q:9000/', KAFKA_BROKERS: 'a:1, b:2', CONFIG_ADMIN_URL: 'https://c', CONFIG_ADMIN_TOKEN: 't'.repeat(20) });
  assert.equal(o.questdb.httpUrl, 'http://q:9000');
  assert.deepEqual(o.brokers, ['a:1', 'b:2']);
  assert.equal(o.adminToken, 't'.repeat(20));
  assert.throws(() => parseDataEnv({ QUESTDB_HTTP_URL: 'nope' }), /QUESTDB_HTTP_URL="nope" is not a URL/);
  assert.throws(() => parseDataEnv({ KAFKA_BROKERS: 'localhost' }), /KAFKA_BROKERS: "localhost" is not host:port/);
  assert.throws(() => parseDataEnv({ AGGREGATOR_BAR_TABLE: 'x;drop' }), /AGGREGATOR_BAR_TABLE/);
});

test('age', async () => {
  const { age } = await import('./data-args.js');
  assert.deepEqual([age(-5), age(41_600), age(300_000), age(3 * 3_600_000), age(12 * 86_400_000)], ['0s', '42s', '5m', '3h', '12d']);
});
