import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BinanceError } from '../errors.js';
import type { FrameTrade } from '../frames/core.js';
import { backfillAggTrades } from './backfill.js';
import type { FetchAggTradePage } from './backfill.js';

const t = (aggId: number): FrameTrade => ({
  market: 'spot',
  symbol: 'BTCUSDT',
  aggId,
  price: '1',
  qty: '1',
  firstId: aggId,
  lastId: aggId,
  tradeTimeMs: aggId,
  eventTimeMs: aggId,
  buyerMaker: false,
});

const req = { market: 'spot', symbol: 'BTCUSDT' } as const;

describe('backfillAggTrades', () => {
  it('sorts and dedupes a page that arrives out of order', async () => {
    const page: FetchAggTradePage = async () => [t(3), t(1), t(2), t(2), t(4)];
    const r = await backfillAggTrades(page, { ...req, fromId: 1, toIdExclusive: 5 }, 1000);
    assert.deepEqual(r.trades.map((x) => x.aggId), [1, 2, 3, 4]);
    assert.deepEqual(r.missing, []);
  });

  it('drops ids outside the wanted range and stops when a server ignores fromId', async () => {
    let calls = 0;
    const page: FetchAggTradePage = async () => {
      calls += 1;
      return [t(1), t(2), t(50), t(99)];
    };
    const r = await backfillAggTrades(page, { ...req, fromId: 10, toIdExclusive: 60 }, 4);
    assert.deepEqual(r.trades.map((x) => x.aggId), [50]);
    assert.deepEqual(r.missing, [
      { fromId: 10, toIdExclusive: 50, reason: 'not_served' },
      { fromId: 51, toIdExclusive: 60, reason: 'not_served' },
    ]);
    assert.equal(calls, 2);
  });

  it('rethrows non-Binance errors (bugs) and rejects impossible ranges', async () => {
    const boom: FetchAggTradePage = async () => {
      throw new TypeError('bug');
    };
    await assert.rejects(backfillAggTrades(boom, { ...req, fromId: 0, toIdExclusive: 1 }, 10), TypeError);
    await assert.rejects(
      backfillAggTrades(boom, { ...req, fromId: 5, toIdExclusive: 4 }, 10),
      (e: unknown) => e instanceof BinanceError && e.code === 'invalid-argument',
    );
  });
});
