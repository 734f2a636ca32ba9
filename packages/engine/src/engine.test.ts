import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BarRow } from './bar.js';
import { applyBatch, type BatchResult } from './engine.js';
import { EngineError } from './errors.js';
import { createState } from './state.js';
import type { EngineTrade } from './trade.js';

const M0 = 1_700_000_040_000; // a UTC minute open (1_700_000_040_000 % 60_000 === 0)
const MIN = 60_000;
const GRACE = 5_000;

function trade(aggId: number, minute: number, over: Partial<EngineTrade> = {}): EngineTrade {
  return {
    market: 'usdm',
    symbol: 'BTCUSDT',
    aggId,
    price: '100',
    qty: '1',
    firstId: aggId * 10,
    lastId: aggId * 10,
    tradeTimeMs: M0 + minute * MIN + (aggId % 50) * 100,
    buyerMaker: false,
    recovered: false,
    ...over,
  };
}

function rowAt(result: BatchResult, minute: number): BarRow {
  const row = result.upserts.find((r) => r.ts === M0 + minute * MIN);
  assert.ok(row, `no upsert for minute ${minute}`);
  return row;
}

/** Watermark just before / at which minute `m` becomes final. */
const beforeFinal = (m: number) => M0 + m * MIN + MIN + GRACE - 1;
const atFinal = (m: number) => M0 + m * MIN + MIN + GRACE;

describe('bar values', () => {
  it('computes every column of a bar exactly', () => {
    const state = createState();
    const r = applyBatch(
      state,
      [
        trade(1, 0, { price: '100.5', qty: '0.10000000', firstId: 7, lastId: 9 }),
        trade(2, 0, { price: '99', qty: '0.3', buyerMaker: true, recovered: true }),
        trade(3, 0, { price: '101.25', qty: '0.05' }),
      ],
      0,
    );
    assert.deepEqual(r.upserts, [
      {
        ts: M0,
        market: 'usdm',
        symbol: 'BTCUSDT',
        open: '100.5',
        high: '101.25',
        low: '99',
        close: '101.25',
        volume: '0.45',
        buyVolume: '0.15',
        sellVolume: '0.3',
        quoteVolume: '44.8125',
        buyQuoteVolume: '15.1125',
        sellQuoteVolume: '29.7',
        delta: '-0.15',
        quoteDelta: '-14.5875',
        cvdOpen: '0',
        cvdHigh: '0.1',
        cvdLow: '-0.2',
        cvdClose: '-0.15',
        trades: 5,
        aggTrades: 3,
        firstAggId: 1,
        lastAggId: 3,
        missingAggIds: 0,
        recovered: 1,
        final: false,
      },
    ]);
    assert.deepEqual(r.stats, { applied: 3, duplicates: 0, lateRevisions: 0, lateBeyondHorizon: 0, invalid: 0, holesEvicted: 0 });
  });

  it('OHLC and the CVD path follow agg-id order, not arrival order', () => {
    const t1 = trade(1, 0, { price: '10', qty: '1', buyerMaker: true });
    const t2 = trade(2, 0, { price: '30', qty: '5' });
    const t3 = trade(3, 0, { price: '20', qty: '2', buyerMaker: true });
    const inOrder = applyBatch(createState(), [t1, t2, t3], 0).upserts;
    const state = createState();
    applyBatch(state, [t3], 0);
    applyBatch(state, [t2], 0);
    const shuffled = applyBatch(state, [t1], 0).upserts;
    assert.deepEqual(shuffled, inOrder);
    const row = inOrder[0]!;
    assert.equal(row.open, '10');
    assert.equal(row.close, '20');
    assert.equal(row.cvdLow, '-1'); // 0 -> -1 -> 4 -> 2
    assert.equal(row.cvdHigh, '4');
    assert.equal(row.cvdClose, '2');
  });

  it('carries CVD across minutes without rows for empty minutes, from a configured anchor', () => {
    const state = createState({ anchors: { 'usdm:BTCUSDT': '-5' } });
    const r = applyBatch(state, [trade(1, 0, { qty: '2' }), trade(2, 3, { qty: '0.5', buyerMaker: true })], 0);
    assert.equal(r.upserts.length, 2);
    assert.equal(rowAt(r, 0).cvdOpen, '-5');
    assert.equal(rowAt(r, 0).cvdClose, '-3');
    assert.equal(rowAt(r, 3).cvdOpen, '-3');
    assert.equal(rowAt(r, 3).cvdClose, '-3.5');
  });

  it('keeps markets and symbols apart', () => {
    const state = createState();
    const r = applyBatch(
      state,
      [trade(1, 0), trade(1, 0, { market: 'spot' }), trade(1, 0, { symbol: 'ETHUSDT', buyerMaker: true })],
      0,
    );
    assert.equal(r.stats.duplicates, 0);
    assert.deepEqual(
      r.upserts.map((u) => [u.market, u.symbol, u.cvdClose]),
      [
        ['usdm', 'BTCUSDT', '1'],
        ['spot', 'BTCUSDT', '1'],
        ['usdm', 'ETHUSDT', '-1'],
      ],
    );
  });
});

describe('duplicates and holes', () => {
  it('drops duplicates, within and across batches, without re-emitting', () => {
    const state = createState();
    const first = applyBatch(state, [trade(1, 0), trade(2, 0), trade(2, 0)], 0);
    assert.equal(first.stats.applied, 2);
    assert.equal(first.stats.duplicates, 1);
    const again = applyBatch(state, [trade(1, 0, { qty: '99' }), trade(2, 0)], 0);
    assert.equal(again.stats.duplicates, 2);
    assert.equal(again.upserts.length, 0);
  });

  it('counts a hole on the bar holding the id after it, and revises it when filled', () => {
    const state = createState();
    const r1 = applyBatch(state, [trade(10, 0), trade(15, 1)], 0);
    assert.equal(rowAt(r1, 0).missingAggIds, 0, 'no hole before the first trade');
    assert.equal(rowAt(r1, 1).missingAggIds, 4); // 11..14 belong to the bar holding 15

    // Fill 12 (in minute 0): hole 11 now belongs to minute 0, hole 13..14 still to minute 1.
    const r2 = applyBatch(state, [trade(12, 0)], 0);
    assert.equal(rowAt(r2, 0).missingAggIds, 1);
    assert.equal(rowAt(r2, 1).missingAggIds, 2, 'the bar owning the hole is revised too');

    const r3 = applyBatch(state, [trade(11, 0), trade(13, 1), trade(14, 1)], 0);
    assert.equal(rowAt(r3, 0).missingAggIds, 0);
    assert.equal(rowAt(r3, 1).missingAggIds, 0);
    assert.equal(rowAt(r3, 1).firstAggId, 13);
  });

  it('a trade below the first seen id opens a hole owned by the old first bar', () => {
    const state = createState();
    applyBatch(state, [trade(10, 1)], 0);
    const r = applyBatch(state, [trade(7, 0)], 0);
    assert.equal(rowAt(r, 0).missingAggIds, 0);
    assert.equal(rowAt(r, 1).missingAggIds, 2); // 8, 9
    assert.equal(rowAt(r, 1).cvdOpen, '1', 'the new earlier bar starts the chain');
  });

  it('settles holes beyond maxHolesPerSymbol and rejects trades landing in them', () => {
    const state = createState({ maxHolesPerSymbol: 2 });
    const r = applyBatch(state, [trade(1, 0), trade(3, 0), trade(5, 0), trade(7, 0)], 0);
    assert.equal(r.stats.holesEvicted, 1);
    assert.equal(rowAt(r, 0).missingAggIds, 3, 'the settled id stays counted as missing');
    const late = applyBatch(state, [trade(2, 0), trade(4, 0)], 0);
    assert.equal(late.stats.lateBeyondHorizon, 1);
    assert.deepEqual(
      late.rejected.map((x) => [x.index, x.reason]),
      [[0, 'settled-id']],
    );
    assert.equal(rowAt(late, 0).missingAggIds, 2);
  });
});

describe('watermark, final and the horizon', () => {
  it('turns a bar final exactly at minute end + grace, emitting it once', () => {
    const state = createState();
    const r1 = applyBatch(state, [trade(1, 0)], beforeFinal(0));
    assert.equal(rowAt(r1, 0).final, false);
    assert.equal(applyBatch(state, [], beforeFinal(0)).upserts.length, 0, 'unchanged bars are not re-emitted');
    const r2 = applyBatch(state, [], atFinal(0));
    assert.deepEqual(
      r2.upserts.map((u) => [u.ts, u.final]),
      [[M0, true]],
    );
    assert.equal(applyBatch(state, [], atFinal(0) + 30_000).upserts.length, 0);
    assert.equal(applyBatch(state, [], atFinal(0) - 30_000).upserts.length, 0, 'a watermark never goes back');
  });

  it('honours graceMs', () => {
    const state = createState({ graceMs: 0 });
    const r = applyBatch(state, [trade(1, 0)], M0 + MIN);
    assert.equal(rowAt(r, 0).final, true, 'judged late against the old watermark, final after it');
  });

  it('a late trade revises its final bar and the CVD chain of every later bar', () => {
    const state = createState();
    applyBatch(state, [trade(1, 0), trade(3, 1), trade(4, 2), trade(5, 4)], 0);
    applyBatch(state, [], atFinal(4));
    const r = applyBatch(state, [trade(2, 0, { qty: '0.25', buyerMaker: true })], atFinal(4));
    assert.equal(r.stats.lateRevisions, 1);
    assert.deepEqual(
      r.upserts.map((u) => [u.ts - M0, u.final, u.cvdOpen, u.cvdClose, u.missingAggIds]),
      [
        [0, true, '0', '0.75', 0],
        [MIN, true, '0.75', '1.75', 0], // its hole (2) was filled as well
        [2 * MIN, true, '1.75', '2.75', 0],
        [4 * MIN, true, '2.75', '3.75', 0],
      ],
    );
  });

  it('a late trade for a minute without a bar inserts a final bar into the chain', () => {
    const state = createState();
    applyBatch(state, [trade(1, 0), trade(3, 2)], atFinal(2));
    const r = applyBatch(state, [trade(2, 1, { qty: '2' })], atFinal(2));
    assert.deepEqual(
      r.upserts.map((u) => [u.ts - M0, u.final, u.cvdOpen, u.cvdClose, u.missingAggIds]),
      [
        [MIN, true, '1', '3', 0],
        [2 * MIN, true, '3', '4', 0],
      ],
    );
  });

  it('counts and reports trades past the horizon, and keeps the chain after dropping bars', () => {
    const horizonMs = 2 * MIN;
    const state = createState({ horizonMs });
    applyBatch(state, [trade(1, 0, { qty: '3' })], 0);
    const expiry = atFinal(0) + horizonMs;
    applyBatch(state, [], expiry - 1);
    const within = applyBatch(state, [trade(2, 0)], expiry - 1);
    assert.equal(within.stats.lateRevisions, 1);
    assert.equal(rowAt(within, 0).cvdClose, '4');
    applyBatch(state, [], expiry);
    assert.equal(state.symbols.get('usdm:BTCUSDT')!.bars.length, 0, 'the bar left the horizon');

    const late = applyBatch(state, [trade(3, 0), trade(4, 5)], expiry);
    assert.equal(late.stats.lateBeyondHorizon, 1);
    assert.equal(late.stats.applied, 1);
    assert.deepEqual(
      late.rejected.map((x) => [x.index, x.reason]),
      [[0, 'beyond-horizon']],
    );
    assert.equal(rowAt(late, 5).cvdOpen, '4', 'CVD continues from the dropped chain tail');
    assert.equal(rowAt(late, 5).missingAggIds, 1, 'id 3 is still a hole');
  });
});

describe('bad input', () => {
  // Trades that break the contract (not an object, unknown market, bad symbol, bad ids or
  // times, non-decimal or negative price/qty) are rejected at the boundaries, before the
  // engine: those assertions live with the core's checkTrade (packages/core/src/trade.test.ts).
  it('refuses zero prices and quantities with a reason and applies the valid ones', () => {
    const state = createState();
    const bad: Array<[EngineTrade, string]> = [
      [{ ...trade(1, 0), price: '0.000' }, 'zero-price'],
      [{ ...trade(1, 0), qty: '0' }, 'zero-qty'],
      [{ ...trade(1, 0), price: '0', qty: '0' }, 'zero-price'],
    ];
    const input = [...bad.map(([t]) => t), trade(1, 0)];
    const r = applyBatch(state, input, 0);
    assert.equal(r.stats.invalid, bad.length);
    assert.equal(r.stats.applied, 1);
    assert.deepEqual(
      r.rejected.map((x) => [x.index, x.reason]),
      bad.map(([, reason], i) => [i, reason]),
    );
    assert.equal(r.rejected[0]!.detail, 'zero');
    assert.equal(r.rejected[1]!.trade, input[1], 'the refused trade itself, for the dead letter');
    assert.equal(r.upserts.length, 1);
  });

  it('trusts its input: a non-decimal price is a caller bug and throws', () => {
    assert.throws(() => applyBatch(createState(), [{ ...trade(1, 0), price: '1e309' }], 0), RangeError);
  });

  it('accepts id 0 (a new listing starts there)', () => {
    const r = applyBatch(createState(), [trade(0, 0, { firstId: 0, lastId: 0 })], 0);
    assert.equal(r.stats.applied, 1);
  });

  it('throws typed errors for caller mistakes only', () => {
    const state = createState();
    assert.throws(
      () => applyBatch(state, [], Number.NaN),
      (e: unknown) => e instanceof EngineError && e.code === 'invalid-watermark' && !e.retriable,
    );
    assert.throws(
      () => createState({ graceMs: -1 }),
      (e: unknown) => e instanceof EngineError && e.code === 'invalid-options',
    );
    assert.throws(
      () => createState({ anchors: { 'spot:X': '1e3' } }),
      (e: unknown) => e instanceof EngineError && e.code === 'invalid-options',
    );
  });
});

describe('symbols', () => {
  // Which symbols are valid is the core's rule, checked at the boundaries (core trade.test.ts).
  it('accepts non-ASCII exchange symbols', () => {
    const state = createState();
    const ok = applyBatch(state, [trade(1, 0, { symbol: '币安人生USDT' })], M0);
    assert.equal(ok.stats.applied, 1);
    assert.equal(ok.upserts[0]?.symbol, '币安人生USDT');
  });
});
