import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from './simulator.js';
import { getJson } from './test-client.js';

const T0 = 1_750_000_000_000;
const rows = (market: 'spot' | 'usdm' | 'coinm', symbol: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ market, symbol, a: 1 + i, p: '10.5', q: '1', T: T0 + i * 1000, m: i % 3 === 0 }));

test('aggTrades: paging by fromId and by time, limits, most recent, errors', async () => {
  const sim = await startSimulator({
    pace: { mode: 'fast' },
    start: 'immediate',
    sources: [{ kind: 'trades', trades: [...rows('spot', 'BTCUSDT', 2500), ...rows('usdm', 'BTCUSDT', 50)] }],
  });
  try {
    await sim.done();
    const base = `${sim.restUrl('spot')}/api/v3/aggTrades?symbol=BTCUSDT`;
    const def = await getJson(base);
    assert.equal(def.status, 200);
    assert.equal((def.body as unknown[]).length, 500);
    assert.equal((def.body as { a: number }[])[499]?.a, 2500, 'most recent, ascending');
    assert.deepEqual((def.body as unknown[])[0], { a: 2001, p: '10.5', q: '1', f: 2001, l: 2001, T: T0 + 2000_000, m: false, M: true });
    // Page through everything by fromId.
    const seen: number[] = [];
    let from = 1;
    for (let page = 0; page < 10; page++) {
      const r = (await getJson(`${base}&fromId=${from}&limit=1000`)).body as { a: number }[];
      if (r.length === 0) break;
      seen.push(...r.map((x) => x.a));
      from = (r.at(-1)?.a ?? 0) + 1;
    }
    assert.deepEqual(seen, Array.from({ length: 2500 }, (_, i) => i + 1));
    assert.equal(((await getJson(`${base}&fromId=1&limit=5000`)).body as unknown[]).length, 1000, 'limit clamped');
    const byTime = (await getJson(`${base}&startTime=${T0 + 10_000}&endTime=${T0 + 14_000}`)).body as { a: number }[];
    assert.deepEqual(byTime.map((x) => x.a), [11, 12, 13, 14, 15]);
    const fromStart = (await getJson(`${base}&startTime=${T0 + 2_497_000}`)).body as { a: number }[];
    assert.deepEqual(fromStart.map((x) => x.a), [2498, 2499, 2500]);
    const both = (await getJson(`${base}&fromId=20&startTime=${T0}&endTime=${T0 + 21_000}`)).body as { a: number }[];
    assert.deepEqual(both.map((x) => x.a), [20, 21, 22]);
    assert.deepEqual((await getJson(`${sim.restUrl('spot')}/api/v3/aggTrades`)).body, {
      code: -1102,
      msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
    });
    const bad = await getJson(`${sim.restUrl('spot')}/api/v3/aggTrades?symbol=NOPE`);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { code: -1121, msg: 'Invalid symbol.' });
    assert.equal(((await getJson(`${base}&fromId=abc`)).body as { code: number }).code, -1100);
    // Futures: rows without M, no fromId+time, 1 h window.
    const fbase = `${sim.restUrl('usdm')}/fapi/v1/aggTrades?symbol=BTCUSDT`;
    const f = (await getJson(`${fbase}&fromId=1&limit=2`)).body as Record<string, unknown>[];
    assert.deepEqual(f[0], { a: 1, p: '10.5', q: '1', f: 1, l: 1, T: T0, m: true });
    assert.equal(((await getJson(`${fbase}&fromId=1&startTime=${T0}`)).body as { code: number }).code, -1128);
    assert.equal(((await getJson(`${fbase}&startTime=${T0}&endTime=${T0 + 3_600_001}`)).body as { code: number }).code, -1127);
    assert.equal((await getJson(`${sim.restUrl('coinm')}/fapi/v1/aggTrades?symbol=BTCUSDT`)).status, 404);
  } finally {
    await sim.stop();
  }
});

test('REST serves only published trades', async () => {
  const sim = await startSimulator({ pace: { mode: 'fast' }, start: 'manual', sources: [{ kind: 'trades', trades: rows('spot', 'BTCUSDT', 10) }] });
  try {
    assert.deepEqual((await getJson(`${sim.restUrl('spot')}/api/v3/aggTrades?symbol=BTCUSDT`)).body, []);
    sim.start();
    await sim.done();
    assert.equal(((await getJson(`${sim.restUrl('spot')}/api/v3/aggTrades?symbol=BTCUSDT`)).body as unknown[]).length, 10);
  } finally {
    await sim.stop();
  }
});

test('weight header per minute and 429 with Retry-After over budget; futures share a budget', async () => {
  const sim = await startSimulator({
    start: 'manual',
    sources: [{ kind: 'trades', trades: [...rows('spot', 'BTCUSDT', 1), ...rows('usdm', 'BTCUSDT', 1), ...rows('coinm', 'BTCUSD_PERP', 1)] }],
    markets: { spot: { restWeightLimit: 10 }, usdm: { restWeightLimit: 50 }, coinm: { restWeightLimit: 50 } },
  });
  try {
    const url = `${sim.restUrl('spot')}/api/v3/aggTrades?symbol=BTCUSDT`;
    const r1 = await getJson(url);
    assert.equal(r1.headers.get('x-mbx-used-weight-1m'), '4');
    const r2 = await getJson(url);
    assert.equal(r2.headers.get('x-mbx-used-weight-1m'), '8');
    const r3 = await getJson(url);
    assert.equal(r3.status, 429);
    assert.equal((r3.body as { code: number }).code, -1003);
    const retry = Number(r3.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    const u = await getJson(`${sim.restUrl('usdm')}/fapi/v1/aggTrades?symbol=BTCUSDT`);
    assert.equal(u.headers.get('x-mbx-used-weight-1m'), '20');
    const c = await getJson(`${sim.restUrl('coinm')}/dapi/v1/aggTrades?symbol=BTCUSD_PERP`);
    assert.equal(c.headers.get('x-mbx-used-weight-1m'), '40', 'shared with USD-M');
    assert.equal((await getJson(`${sim.restUrl('usdm')}/fapi/v1/aggTrades?symbol=BTCUSDT`)).status, 429);
  } finally {
    await sim.stop();
  }
});

test('weight window resets (configurable window)', async () => {
  const sim = await startSimulator({
    start: 'manual',
    weightWindowMs: 300,
    sources: [{ kind: 'trades', trades: rows('spot', 'BTCUSDT', 1) }],
    markets: { spot: { restWeightLimit: 4 } },
  });
  try {
    const url = `${sim.restUrl('spot')}/api/v3/aggTrades?symbol=BTCUSDT`;
    let r = await getJson(url);
    if (r.status === 429) r = await getJson(url); // window boundary race: at most once
    assert.equal((await getJson(url)).status, 429);
    await new Promise((res) => setTimeout(res, 350));
    const ok = await getJson(url);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-mbx-used-weight-1m'), '4');
  } finally {
    await sim.stop();
  }
});

test('exchangeInfo per market', async () => {
  const sim = await startSimulator({
    start: 'manual',
    sources: [
      {
        kind: 'synthetic',
        seed: 1,
        startTime: T0,
        tradesPerSymbol: 1,
        symbols: [
          { market: 'spot', symbol: 'ETHBTC', startPrice: '0.05', tickSize: '0.00001', stepSize: '0.0001' },
          { market: 'usdm', symbol: 'BTCUSDT', startPrice: '60000.1', tickSize: '0.1', stepSize: '0.001' },
          { market: 'coinm', symbol: 'BTCUSD_PERP', startPrice: '60000.1', tickSize: '0.1', stepSize: '1' },
        ],
      },
    ],
    symbols: [{ market: 'usdm', symbol: 'OLDUSDT', status: 'SETTLING', tickSize: '0.001', stepSize: '1' }],
  });
  try {
    const spot = await getJson(`${sim.restUrl('spot')}/api/v3/exchangeInfo`);
    assert.equal(spot.headers.get('x-mbx-used-weight-1m'), '20');
    const s = (spot.body as { symbols: Record<string, unknown>[] }).symbols;
    assert.equal(s.length, 1);
    assert.equal(s[0]?.['symbol'], 'ETHBTC');
    assert.equal(s[0]?.['status'], 'TRADING');
    assert.equal(s[0]?.['baseAsset'], 'ETH');
    assert.equal(s[0]?.['quoteAsset'], 'BTC');
    assert.deepEqual(s[0]?.['filters'], [
      { filterType: 'PRICE_FILTER', minPrice: '0.00001000', maxPrice: '1000000.00000000', tickSize: '0.00001000' },
      { filterType: 'LOT_SIZE', minQty: '0.00010000', maxQty: '9000000.00000000', stepSize: '0.00010000' },
    ]);
    const um = (await getJson(`${sim.restUrl('usdm')}/fapi/v1/exchangeInfo`)).body as { symbols: Record<string, unknown>[] };
    assert.deepEqual(
      um.symbols.map((x) => [x['symbol'], x['contractType'], x['status'], x['baseAsset'], x['quoteAsset']]),
      [
        ['BTCUSDT', 'PERPETUAL', 'TRADING', 'BTC', 'USDT'],
        ['OLDUSDT', 'PERPETUAL', 'SETTLING', 'OLD', 'USDT'],
      ],
    );
    const cm = (await getJson(`${sim.restUrl('coinm')}/dapi/v1/exchangeInfo`)).body as { symbols: Record<string, unknown>[] };
    assert.equal(cm.symbols[0]?.['contractStatus'], 'TRADING');
    assert.equal(cm.symbols[0]?.['contractType'], 'PERPETUAL');
    assert.equal(cm.symbols[0]?.['pair'], 'BTCUSD');
    assert.equal(cm.symbols[0]?.['contractSize'], 100);
    const one = (await getJson(`${sim.restUrl('spot')}/api/v3/exchangeInfo?symbol=ETHBTC`)).body as { symbols: unknown[] };
    assert.equal(one.symbols.length, 1);
  } finally {
    await sim.stop();
  }
});
