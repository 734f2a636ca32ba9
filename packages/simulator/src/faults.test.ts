import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type Simulator, type SimulatorOptions } from './simulator.js';
import { getJson, TestClient } from './test-client.js';
import type { Fault } from './faults.js';

const T0 = 1_750_000_000_000;
const N = 40;
const source = {
  kind: 'trades' as const,
  trades: Array.from({ length: N }, (_, i) => ({ market: 'spot' as const, symbol: 'BTCUSDT', a: 1 + i, p: '1.5', q: '2', T: T0 + i, m: false })),
};

async function run(faults: Fault[], extra: SimulatorOptions = {}, url = '/ws/btcusdt@aggTrade'): Promise<{ sim: Simulator; c: TestClient }> {
  const sim = await startSimulator({ pace: { mode: 'fast' }, start: 'manual', sources: [source], faults, ...extra });
  const c = await TestClient.open(`${sim.wsUrl('spot')}${url}`);
  sim.start();
  await sim.done();
  return { sim, c };
}

const ids = (c: TestClient): number[] => c.trades.map((t) => t['a'] as number);

test('skip: withheld from the websocket, still in ground truth and served by REST', async () => {
  const { sim, c } = await run([{ kind: 'skip', ids: [5, 6] }, { kind: 'skip', every: 10, count: 2 }]);
  try {
    await c.until(() => ids(c).includes(N));
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(ids(c).filter((a) => [5, 6, 10, 20, 30].includes(a)), [30]);
    assert.equal(c.trades.length, N - 4);
    const gt = sim.groundTruth();
    assert.equal(gt.trades('spot', 'BTCUSDT').length, N);
    assert.deepEqual(gt.skippedOnWs('spot', 'BTCUSDT'), [5, 6, 10, 20]);
    const rest = (await getJson(`${sim.restUrl('spot')}/api/v3/aggTrades?symbol=BTCUSDT&fromId=5&limit=2`)).body as { a: number }[];
    assert.deepEqual(rest.map((r) => r.a), [5, 6]);
  } finally {
    c.close();
    await sim.stop();
  }
});

test('rest-refuse: an unfillable hole (REST omits the ids; ground truth reports them)', async () => {
  const { sim, c } = await run([{ kind: 'skip', ids: [7, 8] }, { kind: 'rest-refuse', fromId: 7, toId: 8 }]);
  try {
    const url = `${sim.restUrl('spot')}/api/v3/aggTrades?symbol=BTCUSDT`;
    assert.deepEqual((await getJson(`${url}&fromId=7&limit=2`)).body, []);
    assert.deepEqual(((await getJson(`${url}&fromId=6&limit=4`)).body as { a: number }[]).map((r) => r.a), [6, 9]);
    assert.deepEqual(sim.groundTruth().unrecoverable('spot', 'BTCUSDT'), [7, 8]);
    assert.deepEqual(sim.groundTruth().refusedByRest('spot', 'BTCUSDT'), [7, 8]);
  } finally {
    c.close();
    await sim.stop();
  }
});

test('duplicate: every 5th frame twice', async () => {
  const { sim, c } = await run([{ kind: 'duplicate', every: 5 }]);
  try {
    await c.until(() => c.trades.length === N + N / 5);
    const a = ids(c);
    assert.deepEqual(a.slice(0, 7), [1, 2, 3, 4, 5, 5, 6]);
    assert.deepEqual([...new Set(a)], Array.from({ length: N }, (_, i) => i + 1));
  } finally {
    c.close();
    await sim.stop();
  }
});

test('reorder within a small window, nothing lost', async () => {
  const { sim, c } = await run([{ kind: 'reorder', window: 4, count: 3 }], { faultSeed: 7 });
  try {
    await c.until(() => c.trades.length === N);
    const a = ids(c);
    assert.notDeepEqual(a.slice(0, 12), Array.from({ length: 12 }, (_, i) => i + 1));
    assert.deepEqual([...a.slice(0, 4)].sort((x, y) => x - y), [1, 2, 3, 4]);
    assert.deepEqual(a.slice(12), Array.from({ length: N - 12 }, (_, i) => i + 13));
    assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i + 1));
  } finally {
    c.close();
    await sim.stop();
  }
});

test('malformed frames: invalid JSON, non-decimal quantity, binary', async () => {
  const { sim, c } = await run(
    [
      { kind: 'malformed', variant: 'invalid-json', every: 10, count: 1 },
      { kind: 'malformed', variant: 'non-decimal-quantity', every: 20, count: 1 },
      { kind: 'malformed', variant: 'binary', every: 30, count: 1 },
    ],
    {},
    '/stream?streams=btcusdt@aggTrade',
  );
  try {
    await c.until(() => c.messages.length === N + 3);
    const bad = c.messages.filter((m) => m.json === undefined);
    assert.equal(bad.length, 2);
    assert.ok(bad.some((m) => m.binary && JSON.parse(m.text).data.a === 30));
    assert.ok(bad.some((m) => !m.binary && m.text.startsWith('{"stream":"btcusdt@aggTrade"')));
    const nonDecimal = c.trades.filter((t) => t['q'] === '1e-3');
    assert.equal(nonDecimal.length, 1);
    assert.equal(nonDecimal[0]?.['a'], 20);
    assert.equal(c.trades.filter((t) => t['q'] === '2').length, N, 'real frames still follow');
  } finally {
    c.close();
    await sim.stop();
  }
});

test('disconnect-every N frames, and disconnect now', async () => {
  const { sim, c } = await run([{ kind: 'disconnect-every', frames: 15 }]);
  try {
    const closed = await c.closed;
    assert.equal(closed.reason, 'fault: disconnect-every');
    assert.equal(c.trades.length, 15);
  } finally {
    await sim.stop();
  }
  const sim2 = await startSimulator({ start: 'manual' });
  try {
    const a = await TestClient.open(`${sim2.wsUrl('spot')}/ws`);
    const b = await TestClient.open(`${sim2.wsUrl('usdm')}/market/ws`);
    sim2.inject({ kind: 'disconnect', market: 'spot', abrupt: true });
    const ca = await a.closed;
    assert.equal(ca.code, 1006);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(b.isClosed, false);
    sim2.inject({ kind: 'server-shutdown' });
    await b.closed;
    assert.deepEqual(Object.keys(b.messages[0]?.json as object), ['e', 'E']);
  } finally {
    await sim2.stop();
  }
});

test('silence: open connection, no data; a reconnect heals; removing it resumes', async () => {
  const sim = await startSimulator({ pace: { mode: 'fast' }, start: 'manual', sources: [source] });
  try {
    const c = await TestClient.open(`${sim.wsUrl('spot')}/ws/btcusdt@aggTrade`);
    const remove = sim.inject({ kind: 'silence', market: 'spot' });
    const fresh = await TestClient.open(`${sim.wsUrl('spot')}/ws/btcusdt@aggTrade`);
    sim.start();
    await sim.done();
    await fresh.until(() => fresh.trades.length === N);
    assert.equal(c.trades.length, 0);
    assert.equal(c.isClosed, false);
    remove();
    assert.equal(sim.groundTruth().published, N);
    c.close();
    fresh.close();
  } finally {
    await sim.stop();
  }
});

test('inject returns a remover; faults stop applying', async () => {
  const sim = await startSimulator({ pace: { mode: 'speed', factor: 1 }, start: 'manual', sources: [{ ...source, trades: source.trades.map((t) => ({ ...t, T: T0 + t.a * 5 })) }] });
  try {
    const c = await TestClient.open(`${sim.wsUrl('spot')}/ws/btcusdt@aggTrade`);
    const remove = sim.inject({ kind: 'duplicate', every: 1 });
    sim.start();
    await c.until(() => c.trades.length >= 6);
    remove();
    await sim.done();
    await c.until(() => ids(c).at(-1) === N);
    assert.ok(c.trades.length < 2 * N && c.trades.length > N);
    c.close();
  } finally {
    await sim.stop();
  }
});
