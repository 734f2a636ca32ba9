import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AggTrade } from '@cvd/core';
import { AGG_TRADE_BATCH_V1, encodeTrade, encodeTradeBatch, SCHEMA_IDS } from '@cvd/schemas';
import { decodeRecord } from './decode.js';

const T0 = 1_750_000_000_000;
const trade = (aggId: number, symbol = 'BTCUSDT'): AggTrade => ({
  market: 'usdm',
  symbol,
  aggId,
  price: `${100 + aggId}.5`,
  qty: '0.010',
  firstId: aggId * 3,
  lastId: aggId * 3 + 2,
  tradeTimeMs: T0 + aggId,
  eventTimeMs: T0 + aggId + 1,
  buyerMaker: aggId % 2 === 1,
  recovered: aggId === 12,
  receivedAtMs: T0 + aggId + 7,
});

describe('decodeRecord: both record kinds of cvd.trades.v1', () => {
  test('a single-trade AggTrade record decodes as before', () => {
    const times: number[] = [];
    const r = decodeRecord(encodeTrade(trade(7)), times);
    assert.ok(r.ok);
    assert.deepEqual(r.trades, [trade(7)]);
    assert.deepEqual(times, [T0 + 14]);
  });

  test('an AggTradeBatch record expands into its trades in order, each with its receipt time', () => {
    const batch = [10, 11, 12, 13].map((a) => trade(a));
    const times: number[] = [1];
    const r = decodeRecord(encodeTradeBatch(batch), times);
    assert.ok(r.ok);
    assert.deepEqual(r.trades, batch);
    assert.deepEqual(r.trades.map((t) => t.aggId), [10, 11, 12, 13]);
    assert.deepEqual(times, [1, T0 + 17, T0 + 18, T0 + 19, T0 + 20], 'appended after what was there');
  });

  test('a batch with a broken trade is rejected whole, with the trade named', () => {
    const raw = (t: AggTrade) => {
      const { market: _m, symbol: _s, ...rest } = t;
      return rest;
    };
    const body = AGG_TRADE_BATCH_V1.type.toBuffer({ market: 'usdm', symbol: 'BTCUSDT', trades: [raw(trade(1)), { ...raw(trade(2)), price: '1e5' }] });
    const r = decodeRecord(Buffer.concat([Buffer.from([0xc5, SCHEMA_IDS.aggTradeBatchV1]), body]));
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'invalid-value');
    assert.match(!r.ok ? r.detail : '', /trade #1/);
    const truncated = decodeRecord(Buffer.from([0xc5, SCHEMA_IDS.aggTradeBatchV1]));
    assert.equal(truncated.ok, false);
  });
});
