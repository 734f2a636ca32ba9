import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticSource, generatedSymbols, type SyntheticSourceSpec } from './synthetic-source.js';
import { decimalPlaces, parseScaled } from '../decimal.js';
import type { SimTrade } from '../types.js';

function take(spec: SyntheticSourceSpec, max = 100_000): SimTrade[] {
  const out: SimTrade[] = [];
  const it = syntheticSource(spec).trades();
  for (let r = it.next(); r.done !== true && out.length < max; r = it.next()) out.push(r.value);
  return out;
}

const SPEC: SyntheticSourceSpec = {
  kind: 'synthetic',
  seed: 42,
  startTime: 1_750_000_000_000,
  counts: { spot: 3, usdm: 2, coinm: 1 },
  nonAscii: true,
  tradesPerSymbol: 400,
};

test('same seed and start time -> identical trades; another seed differs', () => {
  const a = take(SPEC);
  const b = take(SPEC);
  assert.equal(a.length, 6 * 400);
  assert.deepEqual(a, b);
  const c = take({ ...SPEC, seed: 43 });
  assert.notDeepEqual(
    a.map((t) => t.p),
    c.map((t) => t.p),
  );
});

test('merged by trade time; per symbol ids are consecutive; grids and decimals hold', () => {
  const trades = take(SPEC);
  const symbols = generatedSymbols(SPEC);
  assert.ok(symbols.some((s) => s.symbol === '币安人生USDT'));
  for (let i = 1; i < trades.length; i++) assert.ok((trades[i] as SimTrade).Tus >= (trades[i - 1] as SimTrade).Tus);
  for (const s of symbols) {
    const list = trades.filter((t) => t.market === s.market && t.symbol === s.symbol);
    assert.equal(list.length, 400);
    list.forEach((t, i) => {
      assert.equal(t.a, (list[0] as SimTrade).a + i);
      assert.ok(t.l >= t.f);
      if (i > 0) assert.ok(t.f > (list[i - 1] as SimTrade).l);
      assert.ok(decimalPlaces(t.q) <= 8);
      const tick = parseScaled(s.tickSize);
      const p = parseScaled(t.p);
      assert.equal((p.units * 10n ** BigInt(Math.max(0, tick.scale - p.scale))) % tick.units, 0n, `${t.p} on ${s.tickSize}`);
      const step = parseScaled(s.stepSize);
      const q = parseScaled(t.q);
      const qu = q.units * 10n ** BigInt(Math.max(0, step.scale - q.scale));
      const su = step.units * 10n ** BigInt(Math.max(0, q.scale - step.scale));
      assert.equal(qu % su, 0n);
      assert.ok(qu > 0n);
      if (s.market !== 'spot') assert.equal(t.Tus % 1000, 0);
      if (s.market === 'usdm') assert.ok(t.nq !== undefined && Number(t.nq) <= Number(t.q));
      if (s.market === 'coinm') assert.match(t.q, /^\d+$/);
    });
    assert.ok(list.some((t) => t.m) && list.some((t) => !t.m), 'both sides');
  }
});

test('bursty arrivals: inter-arrival gaps are over-dispersed (CV > 1)', () => {
  const list = take({ ...SPEC, counts: { spot: 1 }, tradesPerSymbol: 5000 });
  const gaps = list.slice(1).map((t, i) => t.Tus - (list[i] as SimTrade).Tus);
  const mean = gaps.reduce((x, y) => x + y, 0) / gaps.length;
  const sd = Math.sqrt(gaps.reduce((x, y) => x + (y - mean) ** 2, 0) / gaps.length);
  assert.ok(sd / mean > 1.2, `cv ${sd / mean}`);
});

test('durationMs bounds trade time; startTime is the first trade time', () => {
  const list = take({ ...SPEC, tradesPerSymbol: undefined, durationMs: 30_000 });
  assert.ok(list.length > 0);
  assert.equal(Math.min(...list.map((t) => t.T)), SPEC.startTime);
  assert.ok(list.every((t) => t.T < SPEC.startTime + 30_000));
});

test('bad specs are rejected', () => {
  assert.throws(() =>
    syntheticSource({ kind: 'synthetic', seed: 1, startTime: 0, symbols: [{ market: 'spot', symbol: 'X', startPrice: '1.005', tickSize: '0.01', stepSize: '1' }] }),
  );
  assert.throws(() =>
    syntheticSource({ kind: 'synthetic', seed: 1, startTime: 0, symbols: [{ market: 'spot', symbol: 'X', startPrice: '1', tickSize: '0.01', stepSize: '0.000000001' }] }),
  );
});
