import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalogue } from './catalogue.js';
import { SimulatorError } from './errors.js';
import { arraySource } from './sources/source.js';

const trade = { market: 'spot' as const, symbol: 'BTCUSDT', a: 1, p: '1.50', q: '0.002', nq: '0.002', f: 1, l: 1, T: 1, Tus: 1000, E: 1, m: false, M: true };

test('catalogue: source symbols, then overrides by market+symbol, then extras', () => {
  const cat = new Catalogue(
    [arraySource('s', [trade])],
    [
      { market: 'spot', symbol: 'BTCUSDT', status: 'BREAK' },
      { market: 'usdm', symbol: 'OLDUSDT', tickSize: '0.1', stepSize: '1' },
    ],
  );
  const spot = cat.symbols('spot');
  assert.deepEqual(spot.map((s) => [s.symbol, s.status]), [['BTCUSDT', 'BREAK']]);
  const usdm = cat.symbols('usdm');
  assert.deepEqual(usdm.map((s) => [s.symbol, s.tickSize, s.stepSize, s.status]), [['OLDUSDT', '0.1', '1', 'TRADING']]);
  assert.deepEqual(cat.symbols('coinm'), []);
});

test('catalogue: an override for an unknown market is a bad option', () => {
  assert.throws(
    () => new Catalogue([], [{ market: 'options' as 'spot', symbol: 'X' }]),
    (e: unknown) => e instanceof SimulatorError && /bad market options/.test(e.message),
  );
});
