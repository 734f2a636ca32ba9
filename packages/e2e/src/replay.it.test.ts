/**
 * Acceptance: a held-out style replay of real aggTrades files (data.binance.vision's CSV
 * layout) at full speed with disconnects — `cvd sim --fast --fault disconnect-every=3000` —
 * through every service. Every full minute's bar must equal the bar computed from the files
 * alone, although the websocket loses thousands of trades and several symbols go quiet right
 * after a disconnect (their in-between trades only come back through ingest's tail probes).
 *
 * The repository holds no long real file, so the files are generated deterministically here:
 * 13 minutes of three USD-M symbols — one busy, one trading in bursts with quiet stretches, one
 * trading a taker order every half minute or so — with several aggTrades per taker order at
 * the same transact time, as Binance splits an order filled at several prices.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AggTrade } from '@cvd/core';
import { getTestStack, type TestStackEndpoints } from '@cvd/test-kit';
import { asTableRow, expectedBars, MINUTE } from './expected.js';
import { Pipeline } from './pipeline.js';

const START = Date.UTC(2024, 2, 1, 0, 0);
const MINUTES = 13;
const HEADER = 'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker';

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Profile {
  readonly symbol: string;
  readonly seed: number;
  readonly firstId: number;
  /** Price in ticks of 0.1 (integer arithmetic keeps every decimal exact). */
  readonly priceTicks: number;
  /** Mean gap between taker orders while trading, ms. */
  readonly meanGapMs: number;
  /** Trading stretch then quiet stretch, ms (quiet 0 = always trading). */
  readonly burstMs: number;
  readonly quietMs: number;
}

const PROFILES: readonly Profile[] = [
  { symbol: 'BTCUSDT', seed: 11, firstId: 2_100_000_000, priceTicks: 620_000, meanGapMs: 60, burstMs: 1, quietMs: 0 },
  { symbol: 'ETHUSDT', seed: 22, firstId: 1_400_000_000, priceTicks: 34_000, meanGapMs: 40, burstMs: 25_000, quietMs: 35_000 },
  { symbol: 'XRPUSDT', seed: 33, firstId: 700_000_000, priceTicks: 6_000, meanGapMs: 30_000, burstMs: 1, quietMs: 0 },
];

/** One symbol's file: `{ text, trades }` (the trades as the pipeline publishes them). */
function generate(p: Profile): { text: string; trades: AggTrade[] } {
  const rnd = prng(p.seed);
  const lines = [HEADER];
  const trades: AggTrade[] = [];
  let aggId = p.firstId;
  let tradeId = p.firstId * 3;
  let ticks = p.priceTicks;
  let t = START + Math.floor(rnd() * 500);
  const end = START + MINUTES * MINUTE;
  while (t < end) {
    const cycle = p.quietMs === 0 ? 0 : (t - START) % (p.burstMs + p.quietMs);
    if (p.quietMs > 0 && cycle >= p.burstMs) {
      t += p.burstMs + p.quietMs - cycle; // skip the quiet stretch
      continue;
    }
    // One taker order: 1..4 aggTrades at the same transact time, walking the book one way.
    const buyerMaker = rnd() < 0.5;
    const fills = 1 + Math.floor(rnd() * rnd() * 4.99);
    for (let k = 0; k < fills; k++) {
      if (k > 0) ticks += buyerMaker ? -1 : 1;
      const lots = 1 + Math.floor(rnd() * 900);
      const qty = `${Math.floor(lots / 1000)}.${String(lots % 1000).padStart(3, '0')}`;
      const price = `${Math.floor(ticks / 10)}.${ticks % 10}`;
      const first = tradeId + 1;
      tradeId += 1 + Math.floor(rnd() * 3);
      lines.push(`${aggId},${price},${qty},${first},${tradeId},${t},${buyerMaker ? 'true' : 'false'}`);
      trades.push({ market: 'usdm', symbol: p.symbol, aggId, price, qty, firstId: first, lastId: tradeId, tradeTimeMs: t, eventTimeMs: t, buyerMaker, recovered: false, receivedAtMs: t });
      aggId += 1;
    }
    ticks += Math.floor(rnd() * 7) - 3;
    if (ticks < 100) ticks = 100;
    t += 1 + Math.floor(-Math.log(1 - rnd()) * p.meanGapMs);
  }
  return { text: `${lines.join('\n')}\n`, trades };
}

/** Parses one generated file back, independently of the simulator's CSV source. */
function parse(symbol: string, text: string): AggTrade[] {
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [a, p, q, f, l, T, m] = line.split(',');
      const tradeTimeMs = Number(T);
      return { market: 'usdm', symbol, aggId: Number(a), price: p!, qty: q!, firstId: Number(f), lastId: Number(l), tradeTimeMs, eventTimeMs: tradeTimeMs, buyerMaker: m === 'true', recovered: false, receivedAtMs: tradeTimeMs };
    });
}

let stack: TestStackEndpoints;
let pipeline: Pipeline | undefined;
before(async () => {
  stack = await getTestStack();
});
after(async () => {
  await pipeline?.stop().catch(() => undefined);
});

test('replay of aggTrades files at full speed with disconnect-every=3000: every full minute equals the bars computed from the files', async () => {
  const files = PROFILES.map((p) => ({ symbol: p.symbol, ...generate(p) }));
  const fromFile = files.flatMap((f) => parse(f.symbol, f.text));
  assert.deepEqual(fromFile, files.flatMap((f) => f.trades), 'the generator and the independent parser agree');
  assert.ok(fromFile.length > 15_000, `${fromFile.length} aggTrades`);
  const sameT = fromFile.filter((t, i) => i > 0 && fromFile[i - 1]!.symbol === t.symbol && fromFile[i - 1]!.tradeTimeMs === t.tradeTimeMs).length;
  assert.ok(sameT > 1_000, `several aggTrades per taker order (${sameT} share the previous one's time)`);

  pipeline = await Pipeline.start({
    stack,
    sim: {
      pace: { mode: 'fast' },
      sources: files.map((f) => ({ kind: 'csv' as const, market: 'usdm' as const, symbol: f.symbol, text: f.text })),
      faults: [{ kind: 'disconnect-every', frames: 3000 }],
    },
    partitions: 3,
  });
  // Full minutes only: the first and the last minute of a file are cut by its start and end.
  const from = START + MINUTE;
  const to = START + (MINUTES - 1) * MINUTE;
  const { actual } = await pipeline.settle({ beforeMs: to, timeoutMs: 80_000 });
  const expected = expectedBars(fromFile, pipeline.graceMs)
    .filter((r) => r.ts >= from && r.ts < to)
    .map(asTableRow);
  const inWindow = actual.filter((r) => String(r.ts) >= new Date(from).toISOString().replace('Z', '000Z'));
  const truth = pipeline.sim.groundTruth();
  assert.equal(truth.published, fromFile.length, 'the simulator replayed every line');
  assert.ok((pipeline.sim.stats().connectionsOpened ?? 0) >= 2, `a disconnect happened (${pipeline.sim.stats().connectionsOpened} connections)`);
  assert.equal(expected.length, 3 * (MINUTES - 2) - 0 - countEmptyMinutes(fromFile, from, to), 'one bar per symbol per traded full minute');
  assert.deepEqual(inWindow, expected);
});

/** (symbol, minute) pairs of the window without a trade (no bar is written for them). */
function countEmptyMinutes(trades: readonly AggTrade[], from: number, to: number): number {
  const traded = new Set(trades.map((t) => `${t.symbol}:${Math.floor(t.tradeTimeMs / MINUTE)}`));
  let empty = 0;
  for (const p of PROFILES) for (let m = from; m < to; m += MINUTE) if (!traded.has(`${p.symbol}:${m / MINUTE}`)) empty += 1;
  return empty;
}
