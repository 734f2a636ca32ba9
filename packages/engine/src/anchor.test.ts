/** Runtime anchors (`setAnchor`): the CVD restarts at a value from a given minute on. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BarRow } from './bar.js';
import { applyBatch, setAnchor } from './engine.js';
import { EngineError } from './errors.js';
import { deserializeState, serializeState } from './serialize.js';
import { createState, type EngineState } from './state.js';
import type { EngineTrade } from './trade.js';

const M0 = 1_700_000_040_000;
const MIN = 60_000;
const KEY = 'usdm:BTCUSDT';

function trade(aggId: number, minute: number, qty = '1', symbol = 'BTCUSDT'): EngineTrade {
  return {
    market: 'usdm', symbol, aggId, price: '100', qty, firstId: aggId, lastId: aggId,
    tradeTimeMs: M0 + minute * MIN + aggId, buyerMaker: false, recovered: false,
  };
}

/** Latest row per minute of BTCUSDT over the given batches. */
function table(rows: readonly BarRow[], into = new Map<number, BarRow>()): Map<number, BarRow> {
  for (const r of rows) if (r.symbol === 'BTCUSDT') into.set((r.ts - M0) / MIN, r);
  return into;
}

const chain = (t: Map<number, BarRow>): [number, string, string][] =>
  [...t.entries()].sort((a, b) => a[0] - b[0]).map(([m, r]) => [m, r.cvdOpen, r.cvdClose]);

describe('setAnchor', () => {
  it('restarts the CVD at the first bar at or after its minute; earlier bars are untouched', () => {
    const state = createState({ horizonMs: 60 * MIN });
    const t = table(applyBatch(state, [trade(1, 0, '2'), trade(2, 1, '3')], M0 + MIN).upserts);
    assert.deepEqual(setAnchor(state, KEY, '-10', M0 + 3 * MIN), [], 'no bar at or after minute 3 yet');
    table(applyBatch(state, [trade(3, 2), trade(4, 4, '2'), trade(5, 5)], M0 + 5 * MIN).upserts, t);
    assert.deepEqual(chain(t), [
      [0, '0', '2'],
      [1, '2', '5'],
      [2, '5', '6'],
      [4, '-10', '-8'], // minute 3 had no trade: the anchor lands on the next bar
      [5, '-8', '-7'],
    ]);
  });

  it('re-links bars that exist already at or after its minute and returns them', () => {
    const state = createState({ horizonMs: 60 * MIN });
    applyBatch(state, [trade(1, 0), trade(2, 1), trade(3, 2)], M0 + 2 * MIN);
    const revised = setAnchor(state, KEY, '100.5', M0 + MIN);
    assert.deepEqual(revised.map((r) => [(r.ts - M0) / MIN, r.cvdOpen, r.cvdClose]), [
      [1, '100.5', '101.5'],
      [2, '101.5', '102.5'],
    ]);
  });

  it('the same value again is no change: a republished config record does not restart the CVD', () => {
    const state = createState({ horizonMs: 60 * MIN });
    setAnchor(state, KEY, '7', M0 + MIN);
    const t = table(applyBatch(state, [trade(1, 1), trade(2, 2)], M0 + 2 * MIN).upserts);
    assert.deepEqual(setAnchor(state, KEY, '7.000', M0 + 3 * MIN), []);
    table(applyBatch(state, [trade(3, 3)], M0 + 3 * MIN).upserts, t);
    assert.deepEqual(chain(t), [[1, '7', '8'], [2, '8', '9'], [3, '9', '10']]);
    setAnchor(state, KEY, '0', M0 + 4 * MIN);
    table(applyBatch(state, [trade(4, 4)], M0 + 4 * MIN).upserts, t);
    assert.deepEqual(chain(t).at(-1), [4, '0', '1'], 'a new value restarts it');
  });

  it('a late trade before the anchor minute revises its bar but not the anchored chain', () => {
    const state = createState({ horizonMs: 60 * MIN });
    setAnchor(state, KEY, '50', M0 + 2 * MIN);
    const t = table(applyBatch(state, [trade(1, 0), trade(3, 2), trade(4, 3)], M0 + 3 * MIN).upserts);
    const late = applyBatch(state, [trade(2, 1, '4')], M0 + 3 * MIN);
    table(late.upserts, t);
    // Minute 2 is re-emitted for its missing-id count (id 2 filled its hole), not for its CVD;
    // minute 3 is not re-emitted: the chain breaks at the anchor.
    assert.deepEqual(late.upserts.map((r) => [(r.ts - M0) / MIN, r.cvdOpen]), [[1, '1'], [2, '50']]);
    assert.deepEqual(chain(t), [[0, '0', '1'], [1, '1', '5'], [2, '50', '51'], [3, '51', '52']]);
  });

  it('an anchor for a symbol not seen yet applies when its bars reach the minute', () => {
    const state = createState({ horizonMs: 60 * MIN, anchors: { [KEY]: '3' } });
    setAnchor(state, KEY, '-1', M0 + 2 * MIN);
    const t = table(applyBatch(state, [trade(1, 1), trade(2, 2)], M0 + 2 * MIN).upserts);
    assert.deepEqual(chain(t), [[1, '3', '4'], [2, '-1', '0']], 'the configured start value, then the runtime anchor');
  });

  it('survives a snapshot: restore + replay gives the bars of an uninterrupted run', () => {
    const run = (snapshotAfterAnchor: boolean): [number, string, string][] => {
      let state: EngineState = createState({ horizonMs: 60 * MIN });
      const t = table(applyBatch(state, [trade(1, 0), trade(2, 1)], M0 + MIN).upserts);
      setAnchor(state, KEY, '-2.5', M0 + 2 * MIN);
      if (snapshotAfterAnchor) state = deserializeState(serializeState(state));
      table(applyBatch(state, [trade(3, 2), trade(4, 3)], M0 + 3 * MIN).upserts, t);
      return chain(t);
    };
    assert.deepEqual(run(true), run(false));
    assert.deepEqual(run(true).slice(2), [[2, '-2.5', '-1.5'], [3, '-1.5', '-0.5']]);
  });

  it('once its bars leave the horizon the anchor is part of the chain base', () => {
    const state = createState({ graceMs: 0, horizonMs: MIN });
    setAnchor(state, KEY, '10', M0 + MIN);
    applyBatch(state, [trade(1, 0), trade(2, 1)], M0 + 2 * MIN);
    applyBatch(state, [], M0 + 10 * MIN); // minutes 0 and 1 leave the horizon
    assert.deepEqual(state.anchors.get(KEY)?.points, []);
    const again = deserializeState(serializeState(state));
    const r = applyBatch(again, [trade(3, 10)], M0 + 10 * MIN);
    assert.deepEqual(r.upserts.map((u) => [u.cvdOpen, u.cvdClose]), [['11', '12']]);
  });

  it('rejects a bad value or a fromMs that is not a minute', () => {
    const state = createState();
    assert.throws(() => setAnchor(state, KEY, 'abc', M0), (e: unknown) => e instanceof EngineError && e.code === 'invalid-options');
    assert.throws(() => setAnchor(state, KEY, '1', M0 + 1), (e: unknown) => e instanceof EngineError && e.code === 'invalid-options');
  });
});
