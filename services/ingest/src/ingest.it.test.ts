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
});
