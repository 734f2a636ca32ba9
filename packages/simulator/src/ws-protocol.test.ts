import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type Simulator, type SimulatorOptions } from './simulator.js';
import { TestClient } from './test-client.js';
import type { SourceSpec } from './sources/load.js';

const T0 = 1_750_000_000_000;
const trades = (n: number): SourceSpec => ({
  kind: 'trades',
  trades: (['spot', 'usdm', 'coinm'] as const).flatMap((market) =>
    Array.from({ length: n }, (_, i) => ({
      market,
      symbol: market === 'coinm' ? 'BTCUSD_PERP' : 'BTCUSDT',
      a: 100 + i,
      f: 1000 + 2 * i,
      l: 1001 + 2 * i,
      p: market === 'spot' ? '60000.01000000' : '60000.1',
      q: market === 'coinm' ? '3' : '0.01200000',
      T: T0 + i,
      Tus: (T0 + i) * 1000 + 7,
      E: T0 + i + 1,
      m: i % 2 === 0,
      ...(market === 'usdm' ? { nq: '0.01100000' } : {}),
    })),
  ),
});

async function withSim(opts: SimulatorOptions, fn: (sim: Simulator) => Promise<void>): Promise<void> {
  const sim = await startSimulator({ pace: { mode: 'fast' }, start: 'manual', ...opts });
  try {
    await fn(sim);
  } finally {
    await sim.stop();
  }
}

test('raw and combined streams carry Binance aggTrade frames per market', async () => {
  await withSim({ sources: [trades(3)] }, async (sim) => {
    const spotRaw = await TestClient.open(`${sim.wsUrl('spot')}/ws/btcusdt@aggTrade`);
    const spotMicro = await TestClient.open(`${sim.wsUrl('spot')}/ws/btcusdt@aggTrade?timeUnit=MICROSECOND`);
    const usdm = await TestClient.open(`${sim.wsUrl('usdm')}/market/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade`);
    const coinm = await TestClient.open(`${sim.wsUrl('coinm')}/stream?streams=btcusd_perp@aggTrade`);
    await sim.waitForSubscribers('coinm', ['btcusd_perp@aggTrade']);
    sim.start();
    await sim.done();
    for (const c of [spotRaw, spotMicro, usdm, coinm]) await c.until(() => c.trades.length === 3);
    assert.deepEqual(JSON.parse(spotRaw.messages[0]?.text ?? ''), {
      e: 'aggTrade', E: T0 + 1, s: 'BTCUSDT', a: 100, p: '60000.01000000', q: '0.01200000', f: 1000, l: 1001, T: T0, m: true, M: true,
    });
    assert.equal(spotRaw.messages[0]?.text.startsWith('{"e":"aggTrade","E":'), true);
    const micro = spotMicro.trades[0] as Record<string, unknown>;
    assert.equal(micro['T'], T0 * 1000 + 7);
    assert.equal(micro['E'], (T0 + 1) * 1000);
    assert.deepEqual(JSON.parse(usdm.messages[0]?.text ?? ''), {
      stream: 'btcusdt@aggTrade',
      data: { e: 'aggTrade', E: T0 + 1, s: 'BTCUSDT', a: 100, p: '60000.1', q: '0.01200000', nq: '0.01100000', f: 1000, l: 1001, T: T0, m: true, st: 1 },
    });
    assert.deepEqual(JSON.parse(coinm.messages[0]?.text ?? ''), {
      stream: 'btcusd_perp@aggTrade',
      data: { e: 'aggTrade', E: T0 + 1, s: 'BTCUSD_PERP', a: 100, p: '60000.1', q: '3', f: 1000, l: 1001, T: T0, m: true, st: 2 },
    });
    for (const c of [spotRaw, spotMicro, usdm, coinm]) c.close();
  });
});

test('SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / properties and error replies', async () => {
  await withSim({ markets: { spot: { maxMessagesPerSecond: 100 } } }, async (sim) => {
    const c = await TestClient.open(`${sim.wsUrl('spot')}/ws`);
    c.send({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade', 'nosuchcoin@aggTrade'], id: 1 });
    assert.deepEqual(await c.reply(1), { result: null, id: 1 });
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 2 });
    assert.deepEqual(await c.reply(2), { result: ['btcusdt@aggTrade', 'nosuchcoin@aggTrade'], id: 2 });
    c.send({ method: 'UNSUBSCRIBE', params: ['btcusdt@aggTrade'], id: 3 });
    assert.deepEqual(await c.reply(3), { result: null, id: 3 });
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 'abc' });
    assert.deepEqual(await c.reply('abc'), { result: ['nosuchcoin@aggTrade'], id: 'abc' });
    c.send({ method: 'GET_PROPERTY', params: ['combined'], id: 4 });
    assert.deepEqual(await c.reply(4), { result: false, id: 4 });
    c.send({ method: 'SET_PROPERTY', params: ['combined', true], id: 5 });
    assert.deepEqual(await c.reply(5), { result: null, id: 5 });
    c.send({ method: 'SET_PROPERTY', params: ['combined', 'yes'], id: 6 });
    assert.deepEqual(await c.reply(6), { error: { code: 1, msg: 'Invalid value type: expected Boolean' }, id: 6 });
    c.send({ method: 'GET_PROPERTY', params: ['colour'], id: 7 });
    assert.deepEqual(await c.reply(7), { error: { code: 0, msg: 'Unknown property' }, id: 7 });
    c.send({ method: 'SUBSCRIBE', params: 'btcusdt@aggTrade', id: 8 });
    assert.equal(((await c.reply(8))['error'] as { code: number }).code, 2);
    c.send({ method: 'FOO', params: [], id: 9 });
    assert.match(((await c.reply(9))['error'] as { msg: string }).msg, /unknown variant `FOO`/);
    c.send({ params: [], id: 10 });
    assert.match(((await c.reply(10))['error'] as { msg: string }).msg, /missing field `method`/);
    const before = c.messages.length;
    c.send('{not json');
    await c.until(() => c.messages.length > before);
    assert.deepEqual(c.messages.at(-1)?.json, { error: { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' } });
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: -1.5 });
    await c.until(() => c.messages.length > before + 1);
    assert.deepEqual(c.messages.at(-1)?.json, { error: { code: 2, msg: 'Invalid request: request ID must be an unsigned integer' } });
    c.close();
  });
});

test('unknown symbols are accepted and get no data; live SUBSCRIBE starts data', async () => {
  await withSim({ sources: [trades(5)] }, async (sim) => {
    const c = await TestClient.open(`${sim.wsUrl('spot')}/stream`);
    c.send({ method: 'SUBSCRIBE', params: ['ethusdt@aggTrade', 'btcusdt@aggTrade'], id: 1 });
    await c.reply(1);
    sim.start();
    await sim.done();
    await c.until(() => c.trades.length === 5);
    assert.ok(c.messages.slice(1).every((m) => (m.json as { stream: string }).stream === 'btcusdt@aggTrade'));
    c.close();
  });
});

test('USD-M on the wrong path gets nothing (no error); /market gets data', async () => {
  await withSim({ sources: [trades(4)] }, async (sim) => {
    const wrong = await TestClient.open(`${sim.wsUrl('usdm')}/ws/btcusdt@aggTrade`);
    const pub = await TestClient.open(`${sim.wsUrl('usdm')}/public/stream?streams=btcusdt@aggTrade`);
    const right = await TestClient.open(`${sim.wsUrl('usdm')}/market/ws/btcusdt@aggTrade`);
    sim.start();
    await sim.done();
    await right.until(() => right.trades.length === 4);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(wrong.messages.length, 0);
    assert.equal(pub.messages.length, 0);
    assert.equal(wrong.isClosed, false);
    await assert.rejects(TestClient.open(`${sim.wsUrl('spot')}/market/ws/btcusdt@aggTrade`), /404/);
    for (const c of [wrong, pub, right]) c.close();
  });
});

test('server pings at the cadence; pong deadline enforced', async () => {
  await withSim({ markets: { spot: { pingIntervalMs: 250, pongTimeoutMs: 500 } } }, async (sim) => {
    const good = await TestClient.open(`${sim.wsUrl('spot')}/ws`);
    let pings = 0;
    good.ws.on('ping', () => pings++);
    const deaf = await TestClient.open(`${sim.wsUrl('spot')}/ws`, { autoPong: false });
    const unsolicited = await TestClient.open(`${sim.wsUrl('spot')}/ws`, { autoPong: false });
    const timer = setInterval(() => unsolicited.ws.pong(), 300); // pongs without the ping payload
    const t0 = Date.now();
    const closed = await deaf.closed;
    const elapsed = Date.now() - t0;
    assert.equal(closed.reason, 'pong timeout');
    assert.ok(elapsed >= 500 && elapsed < 2000, `closed after ${elapsed} ms`);
    assert.equal((await unsolicited.closed).reason, 'pong timeout');
    clearInterval(timer);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(good.isClosed, false);
    assert.ok(pings >= 3, `pings ${pings}`);
    good.close();
  });
});

test('per-connection stream cap: URL beyond it and SUBSCRIBE beyond it disconnect', async () => {
  await withSim({ markets: { spot: { maxStreamsPerConnection: 3 } } }, async (sim) => {
    const ok = await TestClient.open(`${sim.wsUrl('spot')}/stream?streams=a@aggTrade/b@aggTrade`);
    ok.send({ method: 'SUBSCRIBE', params: ['c@aggTrade'], id: 1 });
    assert.deepEqual(await ok.reply(1), { result: null, id: 1 });
    ok.send({ method: 'SUBSCRIBE', params: ['d@aggTrade'], id: 2 });
    assert.equal((await ok.closed).reason, 'too many streams');
    const big = await TestClient.open(`${sim.wsUrl('spot')}/stream?streams=a@aggTrade/b@aggTrade/c@aggTrade/d@aggTrade`);
    assert.equal((await big.closed).reason, 'too many streams');
  });
  // Binance's default is 1024.
  await withSim({}, async (sim) => {
    const streams = Array.from({ length: 1024 }, (_, i) => `s${i}@aggTrade`);
    const c = await TestClient.open(`${sim.wsUrl('spot')}/ws`);
    c.send({ method: 'SUBSCRIBE', params: streams, id: 1 });
    await c.reply(1);
    c.send({ method: 'SUBSCRIBE', params: ['one@aggTrade'], id: 2 });
    assert.equal((await c.closed).reason, 'too many streams');
  });
});

test('message-rate cap: spot 5/s and futures 10/s; exceeding disconnects', async () => {
  await withSim({}, async (sim) => {
    const spot = await TestClient.open(`${sim.wsUrl('spot')}/ws`);
    for (let i = 1; i <= 5; i++) spot.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
    await spot.reply(5);
    assert.equal(spot.isClosed, false);
    spot.send({ method: 'LIST_SUBSCRIPTIONS', id: 6 });
    assert.equal((await spot.closed).reason, 'too many messages');
    const fut = await TestClient.open(`${sim.wsUrl('usdm')}/market/ws`);
    for (let i = 1; i <= 10; i++) fut.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
    await fut.reply(10);
    assert.equal(fut.isClosed, false);
    fut.ws.ping(); // pings count too
    assert.equal((await fut.closed).reason, 'too many messages');
  });
});

test('forced disconnect after the connection lifetime', async () => {
  await withSim({ markets: { coinm: { connectionLifetimeMs: 150 } } }, async (sim) => {
    const t0 = Date.now();
    const c = await TestClient.open(`${sim.wsUrl('coinm')}/ws/btcusd_perp@aggTrade`);
    const closed = await c.closed;
    assert.equal(closed.reason, 'connection lifetime exceeded');
    assert.equal(closed.code, 1001);
    assert.ok(Date.now() - t0 >= 140);
    await c.until(() => sim.stats().closes['connection lifetime exceeded'] === 1);
  });
});

test('per-market ports serve Binance paths with no prefix', async () => {
  await withSim({ sources: [trades(2)], marketPorts: { usdm: 0 } }, async (sim) => {
    assert.match(sim.wsUrl('usdm'), /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(sim.wsUrl('usdm'), `ws://127.0.0.1:${sim.port}`);
    assert.equal(sim.wsUrl('spot'), `ws://127.0.0.1:${sim.port}/spot`);
    const c = await TestClient.open(`${sim.wsUrl('usdm')}/market/ws/btcusdt@aggTrade`);
    sim.start();
    await c.until(() => c.trades.length === 2);
    const res = await fetch(`${sim.restUrl('usdm')}/fapi/v1/aggTrades?symbol=BTCUSDT`);
    assert.equal(((await res.json()) as unknown[]).length, 2);
    c.close();
  });
});
