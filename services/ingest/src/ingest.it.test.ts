/**
 * End to end through the simulator and a real Kafka: the set of (market, symbol, aggId) on the
 * trades topic must equal the simulator's ground truth — clean, and under faults.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SimulatorOptions } from '@cvd/simulator';
import { metricSum, sleepMs, startHarness, streamOf, SYMBOLS, waitFor, type Harness } from './it-harness.js';

/** A synthetic market of 2 spot + 2 USD-M symbols, ~7 s of wall time at this speed. */
const market = (durationMs = 240_000, factor = 40): SimulatorOptions => ({
  pace: { mode: 'speed', factor },
  sources: [{ kind: 'synthetic', seed: 7, startTime: Date.now(), counts: { spot: 2, usdm: 2 }, durationMs }],
});

async function begin(h: Harness, symbols: readonly { market: 'spot' | 'usdm'; symbol: string }[] = SYMBOLS): Promise<void> {
  await h.ingest.symbolsCaughtUp;
  for (const m of ['spot', 'usdm'] as const) {
    const streams = symbols.filter((s) => s.market === m).map((s) => streamOf(s.symbol));
    if (streams.length > 0) await h.sim.waitForSubscribers(m, streams, 10_000);
  }
  h.sim.start();
}

/** Waits for the feed to end and ingest to publish everything expected; returns the counts. */
async function finish(h: Harness, symbols: readonly { market: 'spot' | 'usdm'; symbol: string }[] = SYMBOLS): Promise<{ expected: Set<string>; counts: Map<string, number> }> {
  await h.sim.done();
  let expected = h.expected(symbols);
  await waitFor(
    'every ground-truth trade on the trades topic',
    () => {
      expected = h.expected(symbols);
      const counts = h.counts();
      for (const k of expected) if (!counts.has(k)) return false;
      return true;
    },
    30_000,
  ).catch((err: unknown) => {
    const counts = h.counts();
    const missing = [...expected].filter((k) => !counts.has(k));
    throw new Error(`${String(err)}; ${missing.length} missing, e.g. ${missing.slice(0, 10).join(', ')}`);
  });
  await sleepMs(500); // let stragglers (duplicates) show up before judging
  return { expected, counts: h.counts() };
}

function assertExactlyOnce(expected: Set<string>, counts: Map<string, number>): void {
  const extra = [...counts.keys()].filter((k) => !expected.has(k));
  assert.deepEqual(extra, [], 'nothing outside the ground truth');
  const dups = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(dups, [], 'no trade published twice');
  assert.equal(counts.size, expected.size);
}

describe('ingest against the simulator and real Kafka', () => {
  test('clean run: every trade once, from the websocket, one connection per market', async () => {
    const h = await startHarness({ symbols: SYMBOLS, sim: market(120_000) });
    try {
      await begin(h);
      const { expected, counts } = await finish(h);
      assert.ok(expected.size > 500, `a real amount of trades (${expected.size})`);
      assertExactlyOnce(expected, counts);
      assert.equal(h.trades.filter((t) => t.recovered).length, 0, 'nothing needed REST');
      assert.ok(h.trades.every((t) => t.receivedAtMs > 0));
      assert.equal(h.sim.stats().connectionsOpened, 2, 'one spot and one USD-M connection');
      const health = h.ingest.health();
      assert.equal(health.healthy, true, JSON.stringify(health));
      assert.equal(await metricSum(h.ingest, 'cvd_ingest_published_total'), expected.size);
      const res = await fetch(`${h.ingest.opsUrl}/metrics`);
      assert.match(await res.text(), /cvd_ingest_frames_total\{[^}]*market="usdm"/);
    } finally {
      await h.close();
    }
  });

  test('faults: disconnects, serverShutdown, skipped ids (REST), duplicates, reordering, malformed frames, REST refusals', async () => {
    const h = await startHarness({ symbols: SYMBOLS, sim: market(240_000, 40) });
    try {
      await begin(h);
      await waitFor('first frames of every symbol', () => [...h.ingest.lastIds().values()].every((v) => v !== undefined) && h.ingest.lastIds().size === 4);
      const lastEth = h.ingest.lastIds().get('usdm:ETHUSDT') as number;
      const refused = [lastEth + 150, lastEth + 151];
      h.sim.inject({ kind: 'skip', market: 'usdm', symbol: 'ETHUSDT', ids: refused });
      h.sim.inject({ kind: 'rest-refuse', market: 'usdm', symbol: 'ETHUSDT', ids: refused });
      h.sim.inject({ kind: 'skip', every: 41, count: 12 });
      h.sim.inject({ kind: 'duplicate', every: 20, count: 30 });
      h.sim.inject({ kind: 'reorder', window: 4, count: 30 });
      h.sim.inject({ kind: 'malformed', market: 'spot', variant: 'invalid-json', every: 50, count: 2 });
      h.sim.inject({ kind: 'malformed', market: 'usdm', variant: 'binary', every: 60, count: 1 });
      h.sim.inject({ kind: 'malformed', market: 'usdm', variant: 'non-decimal-quantity', every: 70, count: 1 });
      await sleepMs(800);
      h.sim.inject({ kind: 'disconnect' });
      await sleepMs(800);
      h.sim.inject({ kind: 'server-shutdown', market: 'spot' });
      await sleepMs(500);
      const stopAbrupt = h.sim.inject({ kind: 'disconnect-every', frames: 150, market: 'usdm', abrupt: true });
      await sleepMs(800);
      stopAbrupt();

      const { expected, counts } = await finish(h);
      assertExactlyOnce(expected, counts);

      const truth = h.sim.groundTruth();
      for (const { market: m, symbol } of SYMBOLS) {
        const lost = new Set(truth.unrecoverable(m, symbol));
        for (const a of truth.skippedOnWs(m, symbol)) {
          if (lost.has(a)) continue;
          const t = h.trades.find((x) => x.market === m && x.symbol === symbol && x.aggId === a);
          assert.equal(t?.recovered, true, `${m}:${symbol}:${a} withheld from the websocket must come from REST`);
        }
      }
      assert.deepEqual(truth.unrecoverable('usdm', 'ETHUSDT'), refused);
      assert.equal(await metricSum(h.ingest, 'cvd_ingest_unrecoverable_total', { reason: 'not_served' }), 2, 'REST refusals are counted, not hidden');
      assert.ok((await metricSum(h.ingest, 'cvd_ingest_backfilled_total')) > 0);
      assert.ok((await metricSum(h.ingest, 'cvd_ingest_duplicates_total')) > 0, 'duplicate frames were seen and dropped');
      assert.ok((await metricSum(h.ingest, 'cvd_ingest_reconnects_total', { cause: 'server-shutdown' })) >= 1);
      assert.ok((await metricSum(h.ingest, 'cvd_ingest_reconnects_total', { cause: 'remote' })) >= 2);

      await waitFor('dead letters', () => h.deadLetters.length >= 4, 10_000);
      const reasons = new Set(h.deadLetters.map((d) => d.headers.reason));
      assert.deepEqual([...reasons].sort(), ['binary', 'invalid-decimal', 'invalid-json']);
      for (const d of h.deadLetters) {
        assert.equal(d.headers.source, 'ingest');
        assert.ok(d.headers.market === 'spot' || d.headers.market === 'usdm');
        assert.ok(d.value.length > 0, 'raw frame kept');
      }
      assert.equal(await metricSum(h.ingest, 'cvd_ingest_malformed_total'), h.deadLetters.length);
    } finally {
      await h.close();
    }
  });

  test('silent stream: the watchdog reconnects and the hole is backfilled', async () => {
    const h = await startHarness({ symbols: SYMBOLS, sim: market(240_000, 40), env: { INGEST_SILENCE_TIMEOUT: '1s' } });
    try {
      await begin(h);
      await waitFor('first frames', () => h.ingest.lastIds().size === 4 && [...h.ingest.lastIds().values()].every((v) => v !== undefined));
      h.sim.inject({ kind: 'silence', market: 'usdm' }); // the open USD-M connection goes quiet for good
      const { expected, counts } = await finish(h);
      assertExactlyOnce(expected, counts);
      assert.ok((await metricSum(h.ingest, 'cvd_ingest_reconnects_total', { market: 'usdm', cause: 'silence' })) >= 1);
      assert.ok(h.trades.some((t) => t.market === 'usdm' && t.recovered), 'trades sent into the silence were fetched over REST');
    } finally {
      await h.close();
    }
  });

  test('an outage at the end of a stream: the silent symbol\'s tail is probed over REST after the reconnect, every trade once', async () => {
    // usdm:BTCUSDT trades ids 1..20 over ~1 s, then ids 21..40 from 3 s on, then nothing. The
    // connection goes silent after id 20 (as a dead TCP path does) and the watchdog only
    // reconnects at ~7 s, after the stream ended: no later id ever reveals the hole 21..40.
    const t0 = Date.now();
    const rows = Array.from({ length: 40 }, (_, i) => {
      const a = i + 1;
      return { market: 'usdm' as const, symbol: 'BTCUSDT', a, p: `${100 + (a % 7)}.25`, q: `0.${a}`, T: t0 + (a <= 20 ? a * 50 : 3_000 + (a - 20) * 50), m: a % 3 === 0 };
    });
    const only = [{ market: 'usdm', symbol: 'BTCUSDT' }] as const;
    const h = await startHarness({
      symbols: only,
      sim: { pace: { mode: 'realtime' }, sources: [{ kind: 'trades', trades: rows }] },
      env: { INGEST_SILENCE_TIMEOUT: '6s' },
    });
    try {
      await begin(h, only);
      await waitFor('ids 1..20 over the websocket', () => h.ingest.lastIds().get('usdm:BTCUSDT') === 20, 10_000);
      h.sim.inject({ kind: 'silence', market: 'usdm' }); // this connection hears nothing more
      const { expected, counts } = await finish(h, only);
      assert.equal(expected.size, 40);
      assertExactlyOnce(expected, counts);
      const byId = new Map(h.trades.map((t) => [t.aggId, t]));
      for (let a = 21; a <= 40; a++) assert.equal(byId.get(a)?.recovered, true, `id ${a} came from the tail probe`);
      assert.ok(h.ingest.status().router.tailProbes >= 1);
      assert.equal(h.ingest.status().router.gaps, 0, 'no gap was ever revealed');
      assert.ok((await metricSum(h.ingest, 'cvd_ingest_reconnects_total', { market: 'usdm', cause: 'silence' })) >= 1);
      // The 20 recovered trades were published in one go: one AggTradeBatch record.
      assert.ok(h.records() < h.trades.length, `${h.records()} records for ${h.trades.length} trades`);
    } finally {
      await h.close();
    }
  });

  test('one stream goes silent on a healthy connection, then the symbol goes quiet: its in-between trades arrive without it trading again', async () => {
    // usdm:BTCUSDT trades ids 1..20 over ~1 s, then ids 21..40 from 2.5 s on, then nothing.
    // usdm:ETHUSDT keeps the shared connection busy for ~9 s and the watchdog waits 60 s, so
    // no reconnect happens; after id 20 BTCUSDT's stream is silenced (a stalled stream). No
    // later id ever reveals the hole 21..40: only a silence probe finds it.
    const t0 = Date.now();
    const btc = Array.from({ length: 40 }, (_, i) => {
      const a = i + 1;
      return { market: 'usdm' as const, symbol: 'BTCUSDT', a, p: `${100 + (a % 7)}.25`, q: `0.${a}`, T: t0 + (a <= 20 ? a * 50 : 2_500 + (a - 20) * 50), m: a % 3 === 0 };
    });
    const eth = Array.from({ length: 180 }, (_, i) => ({ market: 'usdm' as const, symbol: 'ETHUSDT', a: 500 + i, p: '3000.5', q: '0.01', T: t0 + i * 50, m: i % 2 === 0 }));
    const both = [
      { market: 'usdm', symbol: 'BTCUSDT' },
      { market: 'usdm', symbol: 'ETHUSDT' },
    ] as const;
    const h = await startHarness({
      symbols: both,
      sim: { pace: { mode: 'realtime' }, sources: [{ kind: 'trades', trades: [...btc, ...eth] }] },
      env: { INGEST_SILENCE_TIMEOUT: '60s', INGEST_TAIL_SILENCE: '1s', INGEST_TAIL_SILENCE_MAX: '2s' },
    });
    try {
      await begin(h, both);
      await waitFor('BTCUSDT ids 1..20 over the websocket', () => h.ingest.lastIds().get('usdm:BTCUSDT') === 20, 10_000);
      h.sim.inject({ kind: 'silence', market: 'usdm', symbol: 'BTCUSDT' });
      const { expected, counts } = await finish(h, both);
      assert.equal(expected.size, 220);
      assertExactlyOnce(expected, counts);
      const byId = new Map(h.trades.filter((t) => t.symbol === 'BTCUSDT').map((t) => [t.aggId, t]));
      for (let a = 21; a <= 40; a++) assert.equal(byId.get(a)?.recovered, true, `id ${a} came from a silence probe`);
      assert.equal(await metricSum(h.ingest, 'cvd_ingest_reconnects_total'), 0, 'the connection never went down');
      assert.ok((await metricSum(h.ingest, 'cvd_ingest_tail_probes_total', { reason: 'silence' })) >= 1);
    } finally {
      await h.close();
    }
  });

  test('rotation before the forced lifetime loses and duplicates nothing; pongs keep connections alive within the message rate', async () => {
    const protocol = { connectionLifetimeMs: 4_000, pingIntervalMs: 200, pongTimeoutMs: 1_000 };
    const h = await startHarness({
      symbols: SYMBOLS,
      sim: { ...market(280_000, 40), markets: { spot: protocol, usdm: protocol } },
      env: { INGEST_CONNECTION_LIFETIME: '1500ms', INGEST_ROTATION_OVERLAP: '300ms' },
    });
    try {
      await begin(h);
      const { expected, counts } = await finish(h);
      assertExactlyOnce(expected, counts);
      const closes = h.sim.stats().closes;
      assert.equal(closes['connection lifetime exceeded'] ?? 0, 0, JSON.stringify(closes));
      assert.equal(closes['pong timeout'] ?? 0, 0, JSON.stringify(closes));
      assert.equal(closes['too many messages'] ?? 0, 0, JSON.stringify(closes));
      for (const m of ['spot', 'usdm']) {
        assert.ok((await metricSum(h.ingest, 'cvd_ingest_rotations_total', { market: m })) >= 2, `${m} rotated`);
      }
      assert.equal(await metricSum(h.ingest, 'cvd_ingest_reconnects_total'), 0, 'no connection was lost');
      assert.equal(h.trades.filter((t) => t.recovered).length, 0, 'rotation needs no REST');
    } finally {
      await h.close();
    }
  });

  test('a symbol added while running is SUBSCRIBEd on the open connection; removed, its trades stop', async () => {
    const initial = [SYMBOLS[0], SYMBOLS[2]];
    const h = await startHarness({ symbols: initial, sim: market(440_000, 40) });
    try {
      await begin(h, initial);
      await waitFor('BTC trades', () => h.trades.length > 50);
      const opened = h.sim.stats().connectionsOpened;
      assert.equal(opened, 2);

      await h.setSymbol('spot', 'ETHUSDT', true);
      await h.sim.waitForSubscribers('spot', ['ethusdt@aggTrade'], 10_000);
      await waitFor('ETH trades', () => h.trades.filter((t) => t.market === 'spot' && t.symbol === 'ETHUSDT').length > 50);
      assert.equal(h.sim.stats().connectionsOpened, opened, 'no connection opened for the new symbol');
      const eth = () => h.trades.filter((t) => t.market === 'spot' && t.symbol === 'ETHUSDT').map((t) => t.aggId);
      const ids = eth();
      assert.equal(new Set(ids).size, ids.length, 'ETH trades once each');
      const sorted = [...ids].sort((a, b) => a - b);
      const first = sorted[0] as number;
      const truthIds = h.sim.groundTruth().trades('spot', 'ETHUSDT').map((t) => t.a).filter((a) => a >= first && a <= (sorted.at(-1) as number));
      assert.deepEqual(sorted, truthIds, 'contiguous from the first ETH trade seen');

      await h.setSymbol('spot', 'ETHUSDT', null);
      await waitFor('ETH unsubscribed', () => h.ingest.status().markets.spot.streams === 1, 10_000);
      await sleepMs(800);
      const before = eth().length;
      await sleepMs(1_500);
      assert.equal(h.sim.stats().exhausted, false, 'the simulator was still publishing');
      const ethPublishedMeanwhile = h.sim.groundTruth().trades('spot', 'ETHUSDT').length;
      assert.ok(ethPublishedMeanwhile > before);
      assert.equal(eth().length, before, 'no ETH trades after removal');
      assert.equal(h.sim.stats().connectionsOpened, opened, 'removal closed no connection either');

      const { expected, counts } = await finish(h, initial);
      const btc = new Map([...counts].filter(([k]) => k.includes(':BTCUSDT:')));
      assertExactlyOnce(expected, btc);
    } finally {
      await h.close();
    }
  });

  test('restart: the new run resumes from the last published ids and backfills the downtime', async () => {
    const h = await startHarness({ symbols: SYMBOLS, sim: market(280_000, 40) });
    try {
      await begin(h);
      await waitFor('some trades', () => h.trades.length > 300);
      await h.restartIngest(800);
      const { expected, counts } = await finish(h);
      assertExactlyOnce(expected, counts);
      assert.ok(h.trades.some((t) => t.recovered), 'trades published while ingest was down came from REST');
    } finally {
      await h.close();
    }
  });
});
