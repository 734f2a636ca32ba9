import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAggTradeJsonl } from './jsonl-source.js';
import { SimulatorError } from '../errors.js';
import { fixture } from '../test-client.js';

test('recorded combined frames (USD-M, COIN-M, spot) parse with their recorded fields', () => {
  const usdm = parseAggTradeJsonl(readFileSync(fixture('binance-usdm-aggtrade-frames.jsonl', import.meta.url), 'utf8'), { market: 'usdm' });
  assert.equal(usdm.trades.length, 91);
  assert.deepEqual(usdm.trades[0], {
    market: 'usdm',
    symbol: 'CTKUSDT',
    a: 16599292,
    p: '1.01100',
    q: '10',
    f: 23961322,
    l: 23961322,
    T: 1626992741421,
    Tus: 1626992741421000,
    E: 1626992741575,
    m: false,
    M: true,
  });
  const coinm = parseAggTradeJsonl(readFileSync(fixture('binance-coinm-aggtrade-frames.jsonl', import.meta.url), 'utf8'), { market: 'coinm' });
  assert.equal(coinm.trades.length, 51);
  assert.ok(coinm.trades.some((t) => t.symbol === 'ETHUSD_210924'));
  const spot = parseAggTradeJsonl(readFileSync(fixture('binance-spot-aggtrade-frames.jsonl', import.meta.url), 'utf8'), { market: 'spot' });
  assert.equal(spot.trades.length, 2);
  assert.equal(spot.trades[1]?.p, '0.00000638');
});

test('raw frames, µs times, other events skipped', () => {
  const text = [
    '{"e":"aggTrade","E":1735689600123,"s":"BTCUSDT","a":7,"p":"1.00","q":"2.5","f":1,"l":2,"T":1735689600123456,"m":true,"M":true}',
    '{"e":"trade","E":1,"s":"BTCUSDT"}',
    '{"result":null,"id":1}',
    '',
  ].join('\n');
  const r = parseAggTradeJsonl(text, { market: 'spot' });
  assert.equal(r.trades.length, 1);
  assert.equal(r.skipped, 2);
  assert.equal(r.trades[0]?.Tus, 1735689600123456);
  assert.equal(r.trades[0]?.T, 1735689600123);
});

test('invalid lines fail, or are skipped with skipInvalid', () => {
  const text = '{"e":"aggTrade","s":"X","a":1,"p":"1","q":"abc","f":1,"l":1,"T":1,"m":true}\n{oops\n';
  assert.throws(() => parseAggTradeJsonl(text, { market: 'spot' }), (e: unknown) => e instanceof SimulatorError && e.code === 'bad-source');
  assert.equal(parseAggTradeJsonl(text, { market: 'spot', skipInvalid: true }).skipped, 2);
});
