/**
 * The finality rule with open holes (README "Finality"): a bar whose minute lies between the
 * minutes of an open hole's neighbours stays forming while the hole is open, at most
 * `holeHoldMs` (watermark time) past its normal finality; the bars after it wait with it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BarRow } from './bar.js';
import { applyBatch } from './engine.js';
import { deserializeState, serializeState } from './serialize.js';
import { createState, type EngineState } from './state.js';
import type { EngineTrade } from './trade.js';

const M0 = 1_700_000_040_000; // a UTC minute open
const MIN = 60_000;
const GRACE = 5_000;
const HOLD = 2 * MIN;
/** Watermark at which minute `m` (index from M0) is final without a hole. */
const atFinal = (m: number) => M0 + m * MIN + MIN + GRACE;

function trade(aggId: number, minute: number): EngineTrade {
  return {
    market: 'usdm',
    symbol: 'BTCUSDT',
    aggId,
    price: '100',
    qty: '1',
    firstId: aggId,
    lastId: aggId,
    tradeTimeMs: M0 + minute * MIN + 1_000 + aggId,
    buyerMaker: false,
    recovered: false,
  };
}

const finals = (state: EngineState): Record<number, boolean> =>
  Object.fromEntries([...state.symbols.values()][0]!.bars.map((b) => [(b.ts - M0) / MIN, b.final]));

const row = (rows: readonly BarRow[], minute: number): BarRow | undefined => rows.find((r) => r.ts === M0 + minute * MIN);

describe('finality while a hole is open', () => {
  it('a bar between the hole neighbours stays forming; filled, it turns final with nothing missing', () => {
    const state = createState({ graceMs: GRACE, horizonMs: 15 * MIN, holeHoldMs: HOLD });
    // id 1 in minute 0, ids 2..4 missing (they lie in minutes 0..2), id 5 in minute 2.
    applyBatch(state, [trade(1, 0), trade(5, 2)], atFinal(0));
    assert.deepEqual(finals(state), { 0: false, 2: false }, 'minute 0 is past its finality but the hole 2..4 may fall into it');
    const r = applyBatch(state, [trade(2, 0), trade(3, 1), trade(4, 1)], atFinal(1));
    assert.deepEqual(finals(state), { 0: true, 1: true, 2: false });
    assert.equal(row(r.upserts, 0)?.final, true);
    assert.equal(row(r.upserts, 2)?.missingAggIds, 0);
    assert.equal(r.stats.lateRevisions, 0, 'a held bar was never final: its trades are no revision');
  });

  it('an unrecoverable hole holds the bars only up to holeHoldMs, then they turn final counting it', () => {
    const state = createState({ graceMs: GRACE, horizonMs: 15 * MIN, holeHoldMs: HOLD });
    applyBatch(state, [trade(1, 0), trade(5, 2)], atFinal(0));
    applyBatch(state, [], atFinal(0) + HOLD - 1);
    assert.deepEqual(finals(state), { 0: false, 2: false });
    applyBatch(state, [], atFinal(0) + HOLD);
    assert.deepEqual(finals(state), { 0: true, 2: false }, 'minute 2 has its own hold');
    const r = applyBatch(state, [], atFinal(2) + HOLD);
    assert.deepEqual(finals(state), { 0: true, 2: true });
    assert.equal(row(r.upserts, 2)?.missingAggIds, 3, 'the owner counts what never came');
  });

  it('a bar before every hole span turns final normally, one after a held bar waits with it; without a hold nothing waits', () => {
    const held = createState({ graceMs: GRACE, horizonMs: 15 * MIN, holeHoldMs: 5 * MIN });
    // Hole 3..4 spans minutes 1..2; minute 0 lies before it, minute 3 after it.
    applyBatch(held, [trade(1, 0), trade(2, 1), trade(5, 2), trade(6, 3)], atFinal(3));
    assert.deepEqual(finals(held), { 0: true, 1: false, 2: false, 3: false });
    const plain = createState({ graceMs: GRACE, horizonMs: 15 * MIN });
    applyBatch(plain, [trade(1, 0), trade(2, 1), trade(5, 2), trade(6, 3)], atFinal(3));
    assert.deepEqual(finals(plain), { 0: true, 1: true, 2: true, 3: true });
  });

  it('deterministic across a snapshot: the hole spans are part of the state', () => {
    const a = createState({ graceMs: GRACE, horizonMs: 15 * MIN, holeHoldMs: HOLD });
    applyBatch(a, [trade(1, 0), trade(5, 2)], atFinal(0));
    const b = deserializeState(serializeState(a));
    const later = [trade(3, 1)];
    assert.deepEqual(applyBatch(b, later, atFinal(1) + 30_000), applyBatch(a, later, atFinal(1) + 30_000));
    assert.deepEqual(finals(b), finals(a));
    assert.deepEqual(finals(a), { 0: false, 1: false, 2: false }, 'holes 2..2 (minutes 0..1) and 4..4 (1..2) still open');
  });
});
