import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AggTrade } from '@cvd/core';
import { Prng } from '@cvd/simulator';
import { expectedBars, IncrementalExpected, MINUTE } from './expected.js';

/** 3 symbols, ~40 minutes, trades in publish (time) order with several per millisecond at times. */
function trades(seed: number, n: number): AggTrade[] {
  const rng = new Prng(seed);
  const out: AggTrade[] = [];
  const ids = new Map<string, number>();
  let t = Date.UTC(2025, 0, 6, 12, 0);
  for (let i = 0; i < n; i++) {
    t += rng.uint32() % 1200;
    const symbol = ['AAAUSDT', 'BBBUSDT', 'CCCUSD_PERP'][rng.uint32() % 3]!;
    const market = symbol.endsWith('_PERP') ? 'coinm' : 'usdm';
    const aggId = (ids.get(symbol) ?? 1000) + 1;
    ids.set(symbol, aggId);
    const price = `${100 + (rng.uint32() % 500) / 100}`;
    const q = 1 + (rng.uint32() % 100_000);
    const qty = `${Math.floor(q / 1000)}.${String(q % 1000).padStart(3, '0')}`;
    out.push({ market, symbol, aggId, price, qty, firstId: aggId * 2, lastId: aggId * 2 + 1, tradeTimeMs: t, eventTimeMs: t, buyerMaker: rng.uint32() % 2 === 0, recovered: false, receivedAtMs: t });
  }
  return out;
}

test('IncrementalExpected fed in uneven chunks equals expectedBars of all trades, every column', () => {
  for (const seed of [1, 2, 3]) {
    const all = trades(seed, 4000);
    const inc = new IncrementalExpected(1000);
    const rng = new Prng(seed, 9);
    for (let i = 0; i < all.length; ) {
      const n = 1 + (rng.uint32() % 400);
      inc.feed(all.slice(i, i + n));
      i += n;
    }
    assert.equal(inc.trades, all.length);
    const got = inc.finish();
    const want = expectedBars(all, 1000);
    assert.ok(want.length > 100, `a real spread of bars (${want.length})`);
    assert.deepEqual(got, want);
    assert.ok(got.every((r) => r.final));
  }
});

test('IncrementalExpected refuses a trade that lags the newest by more than its window, loudly', () => {
  const all = trades(4, 200);
  const inc = new IncrementalExpected(1000, MINUTE);
  inc.feed(all);
  const last = all[all.length - 1]!;
  const old = { ...all[0]!, aggId: 999_999, tradeTimeMs: last.tradeTimeMs - 30 * MINUTE };
  assert.throws(() => inc.feed([old]), /1 trade\(s\) refused \(beyond-horizon/);
});
