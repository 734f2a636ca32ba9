/**
 * Property tests of invariants 1, 3 and 4: for random trade sets, random arrival order,
 * duplicates, batch splits, watermark schedules and snapshot/restore points, the table of
 * latest upserts equals — after every batch, value for value — a deliberately simple reference
 * computed from the set of trades applied so far (see `property-model.ts`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkTrade, type AggTrade } from '@cvd/core';
import type { BarRow } from './bar.js';
import { applyBatch } from './engine.js';
import { createState, type EngineState } from './state.js';
import { deserializeState, serializeState } from './serialize.js';
import {
  anchorsOf,
  buildTrades,
  checkContinuity,
  fmt,
  minuteOf,
  mulberry32,
  reference,
  rowKey,
  sat,
  scenario,
  shuffle,
  START,
  type Scenario,
} from './property-model.js';

function run(s: Scenario): void {
  const random = mulberry32(s.seed);
  const trades = buildTrades(s, random);
  const anchors = anchorsOf(s);
  const options = { graceMs: s.graceMs, horizonMs: s.horizonMs, holeHoldMs: s.holeHoldMs, anchors };
  const expiresAt = (t: number) => minuteOf(t) + 60_000 + s.graceMs + s.horizonMs;

  // Arrival: shuffled, with duplicates (exact copies) and a few invalid trades sprinkled in.
  const arrival: Array<AggTrade | { invalid: AggTrade }> = [];
  for (const t of shuffle([...trades], random)) {
    arrival.push(t);
    if (random() < s.duplicateRate) arrival.splice(Math.floor(random() * arrival.length), 0, { ...t });
    if (random() < 0.05) arrival.push({ invalid: { ...t, qty: random() < 0.5 ? '1e3' : '-1' } });
  }
  // Random batch split.
  const cuts = new Set<number>();
  for (let i = 1; i < s.batches; i++) cuts.add(Math.floor(random() * arrival.length));
  const batches: Array<typeof arrival> = [];
  let current: typeof arrival = [];
  arrival.forEach((t, i) => {
    if (cuts.has(i) && current.length > 0) {
      batches.push(current);
      current = [];
    }
    current.push(t);
  });
  batches.push(current);

  // Watermarks: random, may go backwards, never so far that a pending trade is past the horizon
  // (then nothing is dropped and the result must be the reference). With non-monotone times a
  // hole's owner must not expire before its ids arrive, so cap by the earliest minute overall.
  const earliestExpiry = Math.min(...trades.map((t) => expiresAt(t.tradeTimeMs)));
  const pendingCap: number[] = [];
  let cap = Number.POSITIVE_INFINITY;
  for (let b = batches.length - 1; b >= 0; b--) {
    for (const t of batches[b]!) if (!('invalid' in t)) cap = Math.min(cap, expiresAt(t.tradeTimeMs));
    pendingCap[b] = s.monotone ? cap : earliestExpiry;
  }
  const lastTime = Math.max(...trades.map((t) => t.tradeTimeMs));
  const end = minuteOf(lastTime) + 60_000 + s.graceMs + s.horizonMs + 60_000;
  batches.push([]); // final flush past every minute and the horizon
  pendingCap.push(end + 1);

  let state: EngineState = createState(options);
  const table = new Map<string, BarRow>();
  const everFinal = new Set<string>();
  const applied: AggTrade[] = [];
  const seen = new Set<string>();
  let maxWatermark = Number.NEGATIVE_INFINITY;
  let totals = { applied: 0, duplicates: 0, invalid: 0, late: 0, lateRevisions: 0 };
  let sent = 0;
  let invalidSent = 0;

  batches.forEach((batch, b) => {
    const isLast = b === batches.length - 1;
    const hi = pendingCap[b]! - 1;
    const watermark = isLast ? end : Math.min(hi, START - 120_000 + Math.floor(random() * (lastTime - START + 300_000)));
    // The boundary (the record decoder's trade check) rejects the injected bad trades; the
    // engine gets the rest, trusted.
    const input: AggTrade[] = [];
    let rejectedAtBoundary = 0;
    for (const t of batch) {
      const candidate = 'invalid' in t ? t.invalid : t;
      const problem = checkTrade(candidate);
      if (problem === undefined) {
        assert.ok(!('invalid' in t), 'every injected bad trade is rejected');
        input.push(candidate);
        continue;
      }
      assert.ok('invalid' in t, 'only the injected bad trades are rejected');
      assert.equal(problem.code, 'invalid-decimal');
      assert.equal(problem.field, 'qty');
      rejectedAtBoundary++;
    }
    const previousWatermark = maxWatermark;
    const result = applyBatch(state, input, watermark);
    maxWatermark = Math.max(maxWatermark, watermark);

    for (const t of batch) {
      sent++;
      if ('invalid' in t) {
        invalidSent++;
        continue;
      }
      const k = `${t.market}:${t.symbol}:${t.aggId}`;
      if (!seen.has(k)) {
        seen.add(k);
        applied.push(t);
      }
    }
    totals = {
      applied: totals.applied + result.stats.applied,
      duplicates: totals.duplicates + result.stats.duplicates,
      invalid: totals.invalid + rejectedAtBoundary + result.stats.invalid,
      late: totals.late + result.stats.lateBeyondHorizon,
      lateRevisions: totals.lateRevisions + result.stats.lateRevisions,
    };
    assert.deepEqual(result.rejected, [], 'the engine refuses nothing here: no zero price or qty, nothing past the horizon');

    const finalBefore = new Set(everFinal);
    const keysThisBatch = new Set<string>();
    for (const row of result.upserts) {
      const k = rowKey(row);
      assert.ok(!keysThisBatch.has(k), 'a bar is emitted at most once per batch');
      keysThisBatch.add(k);
      if (everFinal.has(k)) assert.equal(row.final, true, 'a final bar never becomes forming again');
      if (row.final) everFinal.add(k);
      table.set(k, row);
    }

    // After every batch, the latest rows are exactly the reference of what was applied.
    const expected = reference(applied, maxWatermark, s.graceMs, anchors, { holdMs: s.holeHoldMs, horizonMs: s.horizonMs, previousWatermark, sticky: finalBefore });
    assert.deepStrictEqual(new Map([...table].sort()), new Map([...expected].sort()));
    checkContinuity(table, anchors);

    if (random() < s.snapshotRate) {
      const snapshot = serializeState(state);
      state = deserializeState(snapshot);
      assert.equal(serializeState(state), snapshot, 'serialize(deserialize(s)) === s');
    }
  });

  assert.equal(totals.applied, applied.length);
  assert.equal(totals.duplicates, sent - invalidSent - applied.length);
  assert.equal(totals.invalid, invalidSent);
  assert.equal(totals.late, 0);
  for (const row of table.values()) assert.equal(row.final, true);
  // Everything is past the horizon now: only the chain tails remain.
  for (const sym of state.symbols.values()) assert.equal(sym.bars.length, 0);
}

describe('engine properties', () => {
  it('latest upserts equal the reference after every batch, for any order/split/watermarks/snapshots', () => {
    fc.assert(fc.property(scenario, run), { numRuns: 300 });
  });

  it('restore + replay after a snapshot reproduces the same upserts exactly', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 100 }), (s, at) => {
        const random = mulberry32(s.seed);
        const trades = shuffle(buildTrades(s, random), random);
        const chunks: AggTrade[][] = [];
        for (let i = 0; i < trades.length; i += 7) chunks.push(trades.slice(i, i + 7));
        const watermarks = chunks.map((c) => Math.max(...c.map((t) => t.tradeTimeMs)) - 20_000);
        const cut = at % (chunks.length + 1);
        const a = createState({ graceMs: s.graceMs, horizonMs: s.horizonMs, holeHoldMs: s.holeHoldMs });
        let b = createState({ graceMs: s.graceMs, horizonMs: s.horizonMs, holeHoldMs: s.holeHoldMs });
        chunks.forEach((chunk, i) => {
          if (i === cut) b = deserializeState(serializeState(b));
          const ra = applyBatch(a, chunk, watermarks[i]!);
          const rb = applyBatch(b, chunk, watermarks[i]!);
          assert.deepStrictEqual(rb, ra);
        });
        assert.equal(serializeState(b), serializeState(a));
      }),
      { numRuns: 150 },
    );
  });
});
