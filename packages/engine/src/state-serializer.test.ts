/**
 * The incremental serializer writes exactly what `serializeState` writes, whatever happened
 * between two calls: random trade sets in random order and batch splits, late revisions,
 * finality, eviction past the horizon, anchors, and restores.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { applyBatch, setAnchor } from './engine.js';
import { createState, type EngineState } from './state.js';
import { deserializeState, serializeState } from './serialize.js';
import { concatPieces, piecesByteLength, StateSerializer, type StatePieces } from './state-serializer.js';
import { anchorsOf, buildTrades, mulberry32, scenario, shuffle, START } from './property-model.js';
import type { EngineTrade } from './trade.js';

const MIN = 60_000;

function trade(aggId: number, minute: number, over: Partial<EngineTrade> = {}): EngineTrade {
  return {
    market: 'usdm',
    symbol: 'BTCUSDT',
    aggId,
    price: '100.5',
    qty: '1',
    firstId: aggId * 10,
    lastId: aggId * 10,
    tradeTimeMs: START + minute * MIN + (aggId % 50) * 100,
    buyerMaker: aggId % 3 === 0,
    recovered: false,
    ...over,
  };
}

describe('StateSerializer', () => {
  it('equals serializeState after every batch, for any order, split, watermarks and restores', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 1, max: 9 }), (s, every) => {
        const random = mulberry32(s.seed);
        const trades = shuffle(buildTrades(s, random), random);
        let state: EngineState = createState({ graceMs: s.graceMs, horizonMs: s.horizonMs, anchors: anchorsOf(s) });
        let serializer = new StateSerializer();
        let captured: { pieces: StatePieces; text: string } | undefined;
        const lastTime = Math.max(...trades.map((t) => t.tradeTimeMs));
        const chunks: EngineTrade[][] = [];
        for (let i = 0; i < trades.length; i += every) chunks.push(trades.slice(i, i + every));
        chunks.push([]); // a last batch past the horizon: every bar is evicted
        chunks.forEach((chunk, i) => {
          const last = i === chunks.length - 1;
          const watermark = last ? lastTime + 2 * MIN + s.graceMs + s.horizonMs : START - 2 * MIN + Math.floor(random() * (lastTime - START + 5 * MIN));
          const result = applyBatch(state, chunk, watermark);
          // Serialising ahead (some batches) never changes the output.
          if (s.seed % 2 === 0) serializer.prepare(state, result.upserts);
          // Pieces captured before the batch still give the snapshot of then.
          if (captured !== undefined) assert.equal(concatPieces(captured.pieces).toString('utf8'), captured.text);
          captured = undefined;
          // Not every batch is followed by a snapshot: changes accumulate between calls.
          if (last || random() < 0.6) {
            const pieces = serializer.pieces(state);
            const text = serializeState(state);
            assert.equal(concatPieces(pieces).toString('utf8'), text);
            captured = { pieces, text };
          }
          if (random() < 0.1) {
            state = deserializeState(serializer.serialize(state));
            if (random() < 0.5) serializer = new StateSerializer();
            assert.equal(serializer.serialize(state), serializeState(state));
          }
        });
        for (const sym of state.symbols.values()) assert.equal(sym.bars.length, 0, 'everything left the horizon');
        assert.equal(serializer.serialize(state), serializeState(state));
      }),
      { numRuns: 300 },
    );
  });

  it('re-serialises only the new trades and the bars that changed', () => {
    const state = createState({ horizonMs: 5 * MIN });
    const serializer = new StateSerializer();
    const other = { market: 'spot' as const, symbol: 'ETHUSDT' };
    applyBatch(state, [trade(1, 0), trade(4, 0), trade(5, 1), trade(1, 0, other), trade(2, 1, other)], START + MIN);
    assert.equal(serializer.serialize(state), serializeState(state));
    assert.deepEqual(serializer.stats, { symbols: 2, bars: 4, barsChanged: 4, entriesSerialized: 5, pieces: 18 });

    // Nothing changed: every fragment is reused.
    assert.equal(serializer.serialize(state), serializeState(state));
    assert.deepEqual(serializer.stats, { symbols: 2, bars: 4, barsChanged: 0, entriesSerialized: 0, pieces: 18 });

    // Two trades appended to BTCUSDT's forming bar: only they are serialised (one more run of trades).
    applyBatch(state, [trade(6, 1), trade(7, 1)], START + MIN + 1);
    assert.deepEqual(serializer.serializeToBuffer(state), Buffer.from(serializeState(state), 'utf8'));
    assert.deepEqual(serializer.stats, { symbols: 2, bars: 4, barsChanged: 1, entriesSerialized: 2, pieces: 20 });

    // A late trade in the middle of minute 0 (final by now): that bar is serialised whole, the
    // other bars (all final now) get a new header, their trades are reused (a final bar: one run).
    applyBatch(state, [trade(2, 0)], START + 2 * MIN + 5_000);
    assert.equal(serializer.serialize(state), serializeState(state));
    assert.deepEqual(serializer.stats, { symbols: 2, bars: 4, barsChanged: 4, entriesSerialized: 3, pieces: 18 });

    // Serialised ahead with the batch's rows: the snapshot then only compares.
    const ahead = applyBatch(state, [trade(9, 2)], START + 2 * MIN + 5_500);
    serializer.prepare(state, ahead.upserts);
    assert.equal(serializer.serialize(state), serializeState(state));
    assert.equal(serializer.stats.entriesSerialized, 0);
    assert.equal(serializer.stats.entriesPrepared, 1);

    // Pieces captured now still give this snapshot after the state moved on.
    const captured = serializer.pieces(state);
    const then = serializeState(state);
    applyBatch(state, [trade(8, 2), trade(3, 2, other)], START + 2 * MIN + 6_000);
    assert.equal(concatPieces(captured).toString('utf8'), then);
    // Into a reused buffer: a view of it when it is large enough, a new buffer otherwise.
    const scratch = Buffer.alloc(Buffer.byteLength(then) + 10, 0x78);
    const view = concatPieces(captured, scratch);
    assert.equal(view.buffer, scratch.buffer);
    assert.equal(view.toString('utf8'), then);
    const small = Buffer.alloc(4);
    assert.notEqual(concatPieces(captured, small).buffer, small.buffer);
    assert.equal(concatPieces(captured, small).toString('utf8'), then);
    assert.equal(piecesByteLength(captured), Buffer.byteLength(then));
    assert.notEqual(serializeState(state), then);
    assert.equal(serializer.serialize(state), serializeState(state));

    // Bars past the horizon are dropped and disappear from the snapshot.
    applyBatch(state, [], START + 20 * MIN);
    const text = serializer.serialize(state);
    assert.equal(text, serializeState(state));
    assert.deepEqual(JSON.parse(text).symbols.map((s: { bars: unknown[] }) => s.bars.length), [0, 0]);
  });

  it('follows anchors, finality and missing-id counts, and its output restores to the same state', () => {
    const state = createState({ horizonMs: 3 * MIN, anchors: { 'usdm:BTCUSDT': '-3.25' } });
    const serializer = new StateSerializer();
    applyBatch(state, [trade(1, 0), trade(5, 0)], START); // hole 2..4: missing ids
    assert.equal(serializer.serialize(state), serializeState(state));
    applyBatch(state, [trade(3, 0)], START + MIN + 5_000); // fills one id, minute 0 turns final
    assert.equal(serializer.serialize(state), serializeState(state));
    setAnchor(state, 'usdm:BTCUSDT', '7', START + MIN);
    applyBatch(state, [trade(9, 1)], START + MIN + 6_000);
    const text = serializer.serialize(state);
    assert.equal(text, serializeState(state));
    const restored = deserializeState(text);
    assert.equal(serializeState(restored), text);
    const next = [trade(10, 1), trade(11, 2), trade(4, 0)];
    assert.deepEqual(applyBatch(restored, next, START + 3 * MIN), applyBatch(state, next, START + 3 * MIN));
    assert.equal(serializer.serialize(restored), serializeState(state));
  });
});
