import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyBatch } from './engine.js';
import { EngineError } from './errors.js';
import { createState } from './state.js';
import { deserializeState, serializeState } from './serialize.js';
import type { EngineTrade } from './trade.js';

const M0 = 1_700_000_040_000; // a UTC minute open
const MIN = 60_000;
const atFinal = (m: number) => M0 + m * MIN + MIN + 5_000;

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

describe('state snapshots', () => {
  function busyState() {
    const state = createState({ horizonMs: 3 * MIN, anchors: { 'spot:ETHUSDT': '12.5' } });
    applyBatch(state, [trade(1, 0), trade(4, 1, { buyerMaker: true, qty: '0.001' }), trade(9, 3)], 0);
    applyBatch(state, [trade(1, 2, { market: 'spot', symbol: 'ETHUSDT', recovered: true })], atFinal(1));
    return state;
  }

  it('round-trips exactly and continues identically', () => {
    const a = busyState();
    const text = serializeState(a);
    const b = deserializeState(text);
    assert.equal(serializeState(b), text);
    const next = [trade(2, 0), trade(3, 1), trade(8, 3), trade(10, 6), trade(2, 2, { market: 'spot', symbol: 'ETHUSDT' })];
    assert.deepEqual(applyBatch(b, next, atFinal(3)), applyBatch(a, next, atFinal(3)));
    assert.equal(serializeState(b), serializeState(a));
  });

  it('is plain versioned JSON with exact decimal strings', () => {
    const json = JSON.parse(serializeState(busyState()));
    assert.equal(json.format, 'cvd-engine-state');
    assert.equal(json.version, 2);
    assert.deepEqual(json.symbols[0].seq.holes[0].length, 4, 'a hole is [lo, hi, owner, low]');
    assert.deepEqual(json.symbols[0].bars[1].entries, [[4, '100', '-0.001']]);
    assert.equal(json.symbols[1].cvdBase, '12.5');
  });

  it('restores a version-1 snapshot (written before the hole hold): same values from then on', () => {
    const a = busyState();
    const v2 = serializeState(a);
    const v1 = v2
      .replace('"version":2', '"version":1')
      .replace('"holeHoldMs":0,', '')
      .replace(/"maxIdMinute":\d+,/g, '')
      .replace(/\[(\d+),(\d+),(\d+),\d+\]/g, '[$1,$2,$3]');
    assert.notEqual(v1, v2);
    const b = deserializeState(v1);
    assert.equal(b.options.holeHoldMs, 0);
    assert.equal(b.symbols.get('usdm:BTCUSDT')?.seq.holes[0]?.low, b.symbols.get('usdm:BTCUSDT')?.seq.holes[0]?.owner, 'unknown lower neighbour: the owner');
    const next = [trade(2, 0), trade(3, 1), trade(8, 3), trade(10, 6)];
    assert.deepEqual(applyBatch(b, next, atFinal(3)).upserts, applyBatch(a, next, atFinal(3)).upserts);
  });

  it('rejects corrupt snapshots with a typed error', () => {
    const text = serializeState(busyState());
    const corrupt = [
      'not json',
      '{}',
      text.replace('"version":2', '"version":3'),
      text.replace('"-0.001"', '"-0.001x"'),
      text.replace('"minId":1,', '"minId":5,'), // minId above maxId
      text.replace('"trades":1,', '"trades":0,'), // fewer trades than aggTrades
      text.replace('"market":"spot"', '"market":"moon"'),
    ];
    for (const bad of corrupt) {
      assert.notEqual(bad, text, 'the corruption applied');
      assert.throws(
        () => deserializeState(bad),
        (e: unknown) => e instanceof EngineError && e.code === 'invalid-state',
        bad.slice(0, 40),
      );
    }
  });
});
