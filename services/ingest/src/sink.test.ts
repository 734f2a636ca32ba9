import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AggTrade } from '@cvd/core';
import { decodeTradeRecord, readHeader, SCHEMA_IDS } from '@cvd/schemas';
import { encodeTradeRecord, TradeBatcher } from './sink.js';

const T0 = 1_750_000_000_000;
const trade = (symbol: string, aggId: number): AggTrade => ({
  market: 'usdm',
  symbol,
  aggId,
  price: '100.5',
  qty: '0.001',
  firstId: aggId * 2,
  lastId: aggId * 2 + 1,
  tradeTimeMs: T0 + aggId,
  eventTimeMs: T0 + aggId,
  buyerMaker: aggId % 2 === 0,
  recovered: false,
  receivedAtMs: T0 + aggId + 3,
});

describe('TradeBatcher', () => {
  test('gathers per key in publish order; keys in order of first appearance', () => {
    const b = new TradeBatcher(500);
    const k = (s: string) => `usdm:${s}`;
    for (const [s, id] of [['BTC', 1], ['ETH', 7], ['BTC', 2], ['BTC', 3], ['ETH', 8]] as const) assert.equal(b.add(k(s), trade(s, id)), undefined);
    assert.equal(b.size, 5);
    const out = b.drain();
    assert.deepEqual(out.map(([key, ts]) => [key, ts.map((t) => t.aggId)]), [
      ['usdm:BTC', [1, 2, 3]],
      ['usdm:ETH', [7, 8]],
    ]);
    assert.equal(b.size, 0);
    assert.deepEqual(b.drain(), []);
  });

  test('a key reaching maxTrades is handed over at once, the others keep gathering', () => {
    const b = new TradeBatcher(3);
    b.add('a', trade('A', 1));
    b.add('b', trade('B', 1));
    b.add('a', trade('A', 2));
    const full = b.add('a', trade('A', 3));
    assert.deepEqual(full?.map((t) => t.aggId), [1, 2, 3]);
    assert.equal(b.size, 1);
    b.add('a', trade('A', 4));
    assert.deepEqual(b.drain().map(([key, ts]) => [key, ts.map((t) => t.aggId)]), [
      ['b', [1]],
      ['a', [4]],
    ]);
  });

  test('maxTrades 1: every trade is handed over alone', () => {
    const b = new TradeBatcher(1);
    assert.deepEqual(b.add('a', trade('A', 1))?.map((t) => t.aggId), [1]);
    assert.equal(b.size, 0);
    assert.throws(() => new TradeBatcher(0), RangeError);
  });
});

describe('encodeTradeRecord', () => {
  test('a lone trade stays an AggTrade record; several become one AggTradeBatch, decoded in order', () => {
    const one = encodeTradeRecord([trade('BTCUSDT', 5)]);
    const h1 = readHeader(one);
    assert.ok(h1.ok);
    assert.equal(h1.value.id, SCHEMA_IDS.aggTradeV1);
    const d1 = decodeTradeRecord(one);
    assert.ok(d1.ok);
    assert.deepEqual(d1.value, [trade('BTCUSDT', 5)]);

    const many = [5, 6, 7, 8].map((id) => trade('BTCUSDT', id));
    const rec = encodeTradeRecord(many);
    const h = readHeader(rec);
    assert.ok(h.ok);
    assert.equal(h.value.id, SCHEMA_IDS.aggTradeBatchV1);
    const d = decodeTradeRecord(rec);
    assert.ok(d.ok);
    assert.deepEqual(d.value, many);
  });

  test('a batch is written in ascending id order (a late hole filler takes its place)', () => {
    const d = decodeTradeRecord(encodeTradeRecord([1, 2, 4, 3, 5].map((id) => trade('BTCUSDT', id))));
    assert.ok(d.ok);
    assert.deepEqual(d.value.map((t) => t.aggId), [1, 2, 3, 4, 5]);
  });
});
