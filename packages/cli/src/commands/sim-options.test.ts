import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSimOptions, parseDuration, parseFault } from './sim-options.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0, 123);

test('defaults: 25 spot + 25 USD-M synthetic symbols in real time from now', () => {
  const o = buildSimOptions({}, NOW);
  assert.deepEqual(o.pace, { mode: 'realtime' });
  assert.equal(o.port, 0);
  assert.deepEqual(o.sources, [{ kind: 'synthetic', seed: 1, startTime: NOW - 123, counts: { spot: 25, usdm: 25 } }]);
});

test('speed, fast, seed, markets, lifetime and faults', () => {
  const o = buildSimOptions({ speed: '60', symbols: '3', markets: 'usdm,coinm', seed: '7', lifetime: '2m', fault: ['disconnect-every=5000', 'skip-every=100', 'duplicate=0.01', 'reorder=4', 'malformed-every=1000', 'silence=30s', 'rest-refuse=10-20'] }, NOW);
  assert.deepEqual(o.pace, { mode: 'speed', factor: 60 });
  assert.deepEqual((o.sources?.[0] as { counts: unknown }).counts, { usdm: 3, coinm: 3 });
  assert.equal(o.markets?.usdm?.connectionLifetimeMs, 120_000);
  assert.deepEqual(o.faults?.map((f) => f.kind), ['disconnect-every', 'skip', 'duplicate', 'reorder', 'malformed', 'silence', 'rest-refuse']);
  assert.deepEqual(buildSimOptions({ fast: true }, NOW).pace, { mode: 'fast' });
  assert.equal(buildSimOptions({ fast: true }, NOW).start, 'first-subscriber', 'trades wait for the first subscriber by default');
  assert.equal(buildSimOptions({ fast: true, 'start-now': true }, NOW).start, 'immediate');
});

test('file replay needs a market and infers the CSV symbol from data.binance.vision names', () => {
  const o = buildSimOptions({ file: ['/tmp/BTCUSDT-aggTrades-2024-05-01.zip', '/tmp/frames.jsonl'], market: 'usdm' }, NOW);
  assert.deepEqual(o.sources, [
    { kind: 'csv', market: 'usdm', symbol: 'BTCUSDT', path: '/tmp/BTCUSDT-aggTrades-2024-05-01.zip' },
    { kind: 'jsonl', market: 'usdm', path: '/tmp/frames.jsonl' },
  ]);
  assert.throws(() => buildSimOptions({ file: ['/tmp/x.csv'] }, NOW), /--file needs --market/);
  assert.throws(() => buildSimOptions({ file: ['/tmp/x.csv'], market: 'spot' }, NOW), /pass --symbol/);
});

test('bad values get a clear message', () => {
  assert.throws(() => buildSimOptions({ speed: '0' }, NOW), /--speed expects a positive factor/);
  assert.throws(() => buildSimOptions({ symbols: 'many' }, NOW), /--symbols expects a whole number/);
  assert.throws(() => buildSimOptions({ markets: 'spot,forex' }, NOW), /unknown market "forex"/);
  assert.throws(() => parseFault('explode=1'), /unknown --fault "explode"/);
  assert.throws(() => parseFault('skip-every=-1'), /positive number/);
  assert.throws(() => parseDuration('lifetime', '2 minutes'), /duration like/);
});
