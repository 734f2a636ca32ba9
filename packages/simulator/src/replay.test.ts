import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from './simulator.js';
import { fixture, getJson, TestClient } from './test-client.js';

test('JSONL replay: recorded USD-M frames come back in the current format, ground truth matches', async () => {
  const sim = await startSimulator({
    pace: { mode: 'fast' },
    start: 'manual',
    sources: [{ kind: 'jsonl', market: 'usdm', path: fixture('binance-usdm-aggtrade-frames.jsonl', import.meta.url).pathname }],
  });
  try {
    const symbols = sim.groundTruth().symbols();
    assert.equal(symbols.length, 0);
    const info = (await getJson(`${sim.restUrl('usdm')}/fapi/v1/exchangeInfo`)).body as { symbols: { symbol: string }[] };
    const names = info.symbols.map((s) => s.symbol).sort();
    assert.deepEqual(names, ['AKROUSDT', 'CTKUSDT', 'SUSHIUSDT', names.find((n) => !['AKROUSDT', 'CTKUSDT', 'SUSHIUSDT'].includes(n))].sort());
    const streams = names.map((n) => `${n.toLowerCase()}@aggTrade`);
    const c = await TestClient.open(`${sim.wsUrl('usdm')}/market/stream?streams=${streams.join('/')}`);
    sim.start();
    await sim.done();
    await c.until(() => c.trades.length === 91);
    const first = c.messages[0]?.json as { stream: string; data: Record<string, unknown> };
    assert.equal(first.stream, 'ctkusdt@aggTrade');
    assert.deepEqual(first.data, { e: 'aggTrade', E: 1626992741575, s: 'CTKUSDT', a: 16599292, p: '1.01100', q: '10', nq: '10', f: 23961322, l: 23961322, T: 1626992741421, m: false, st: 1 });
    const gt = sim.groundTruth();
    assert.equal(gt.published, 91);
    assert.deepEqual(
      c.trades.map((t) => `${String(t['s'])}:${String(t['a'])}`),
      gt.all().map((t) => `${t.symbol}:${t.a}`),
    );
    c.close();
  } finally {
    await sim.stop();
  }
});

test('CSV replay at a speed factor keeps trade-time spacing', async () => {
  const sim = await startSimulator({
    pace: { mode: 'speed', factor: 600 },
    start: 'manual',
    sources: [{ kind: 'csv', market: 'spot', symbol: 'BTCUSDT', path: fixture('spot-BTCUSDT-aggTrades-us-noheader.csv', import.meta.url).pathname }],
  });
  try {
    const c = await TestClient.open(`${sim.wsUrl('spot')}/ws/btcusdt@aggTrade`);
    sim.start();
    await c.until(() => c.trades.length === 3);
    // Trades 2 and 3 are 59.78 s apart in trade time: ~100 ms at 600x.
    const gap = (c.messages[2]?.at ?? 0) - (c.messages[1]?.at ?? 0);
    assert.ok(gap >= 80 && gap < 400, `gap ${gap} ms`);
    assert.equal(c.trades[0]?.['T'], 1735689600123);
    c.close();
  } finally {
    await sim.stop();
  }
});

test('synthetic market through the simulator: same seed -> same frames; fast pace respects backpressure', async () => {
  const spec = { kind: 'synthetic' as const, seed: 9, startTime: 1_760_000_000_000, counts: { spot: 2, usdm: 2, coinm: 1 }, tradesPerSymbol: 3000 };
  const collect = async (): Promise<string[]> => {
    const sim = await startSimulator({ pace: { mode: 'fast', highWaterMarkBytes: 16 * 1024 }, start: 'manual', sources: [spec] });
    try {
      const c = await TestClient.open(`${sim.wsUrl('usdm')}/market/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade`);
      sim.start();
      await sim.done();
      await c.until(() => c.trades.length === 6000, 10_000);
      assert.equal(sim.groundTruth().published, 15_000);
      assert.equal(sim.groundTruth().trades('coinm', 'BTCUSD_PERP').length, 3000);
      c.close();
      return c.messages.map((m) => m.text);
    } finally {
      await sim.stop();
    }
  };
  const a = await collect();
  const b = await collect();
  assert.equal(a.length, 6000);
  assert.deepEqual(a, b);
});
