import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BackfillRequest, BackfillResult, FrameTrade as BinanceTrade } from '@cvd/binance';
import { createLogger } from '@cvd/common';
import type { AggTrade } from '@cvd/core';
import { Registry } from 'prom-client';
import { IngestMetrics } from './metrics.js';
import { TradeRouter } from './router.js';
import type { TradeSink } from './sink.js';

const trade = (aggId: number, symbol = 'BTCUSDT'): BinanceTrade => ({
  market: 'spot',
  symbol,
  aggId,
  price: '1.5',
  qty: '2',
  firstId: aggId * 2,
  lastId: aggId * 2,
  tradeTimeMs: 1_700_000_000_000 + aggId,
  eventTimeMs: 1_700_000_000_000 + aggId,
  buyerMaker: aggId % 2 === 0,
});

function setup(serve: (req: BackfillRequest) => BackfillResult) {
  const published: AggTrade[] = [];
  const dead: string[] = [];
  const sink: TradeSink = { publishTrade: (t) => void published.push(t), deadLetter: (_m, _raw, reason) => void dead.push(reason) };
  const requests: { from: number; to: number }[] = [];
  const rest = {
    backfill: async (req: BackfillRequest): Promise<BackfillResult> => {
      requests.push({ from: req.fromId, to: req.toIdExclusive });
      return serve(req);
    },
  };
  const router = new TradeRouter({
    config: { backfillDelayMs: 40, backfillMaxIds: 1000, backfillConcurrency: 2, backfillAttempts: 3, reconnectInitialMs: 10, reconnectMaxMs: 50 },
    sink,
    rest,
    metrics: new IngestMetrics(new Registry(), { markets: ['spot'], producerBuffered: () => 0, openHoleIds: () => 0 }),
    logger: createLogger({ service: 'test', level: 'silent' }),
  });
  return { router, published, dead, requests };
}

const serveAll = (req: BackfillRequest): BackfillResult => {
  const trades: BinanceTrade[] = [];
  for (let a = req.fromId; a < req.toIdExclusive; a++) trades.push(trade(a, req.symbol));
  return { trades, missing: [], missingCount: 0, pages: 1 };
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('TradeRouter', () => {
  test('reordered frames are published once and never fetched', async () => {
    const { router, published, requests } = setup(serveAll);
    router.activate('spot', 'BTCUSDT');
    for (const a of [1, 2, 4, 3, 3, 5]) router.onWsTrade(trade(a), Date.now());
    await sleep(120);
    assert.deepEqual(requests, []);
    assert.deepEqual(published.map((t) => t.aggId), [1, 2, 4, 3, 5]);
    assert.equal(router.stats.duplicates, 1);
    await router.close();
  });

  test('only what is still missing after the delay is fetched, and published as recovered', async () => {
    const { router, published, requests } = setup(serveAll);
    router.activate('spot', 'BTCUSDT');
    for (const a of [1, 10, 7]) router.onWsTrade(trade(a), Date.now());
    await sleep(150);
    assert.deepEqual(requests, [
      { from: 2, to: 7 },
      { from: 8, to: 10 },
    ]);
    const ids = published.map((t) => t.aggId).sort((a, b) => a - b);
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(published.filter((t) => t.recovered).map((t) => t.aggId), [2, 3, 4, 5, 6, 8, 9]);
    assert.ok(published.every((t) => t.receivedAtMs > 0));
    await router.close();
  });

  test('ids REST does not serve are looked up once more, then counted unrecoverable', async () => {
    const { router, published, requests } = setup((req) => ({
      trades: [],
      missing: [{ fromId: req.fromId, toIdExclusive: req.toIdExclusive, reason: 'not_served' }],
      missingCount: req.toIdExclusive - req.fromId,
      pages: 1,
    }));
    router.activate('spot', 'BTCUSDT');
    router.onWsTrade(trade(1), Date.now());
    router.onWsTrade(trade(4), Date.now());
    await sleep(300);
    assert.deepEqual(requests, [
      { from: 2, to: 4 },
      { from: 2, to: 4 },
    ]);
    assert.equal(router.stats.unrecoverable, 2);
    assert.equal(router.openHoleIds('spot'), 0);
    assert.deepEqual(published.map((t) => t.aggId), [1, 4]);
    await router.close();
  });

  test('frames of inactive symbols are dropped; a removed and re-added symbol starts afresh', async () => {
    const { router, published, requests } = setup(serveAll);
    router.onWsTrade(trade(1), Date.now());
    assert.equal(published.length, 0);
    router.activate('spot', 'BTCUSDT');
    router.onWsTrade(trade(5), Date.now());
    router.deactivate('spot', 'BTCUSDT');
    router.activate('spot', 'BTCUSDT');
    router.onWsTrade(trade(50), Date.now());
    await sleep(100);
    assert.deepEqual(requests, [], 'no backfill of the ids between removal and re-adding');
    assert.deepEqual(published.map((t) => t.aggId), [5, 50]);
    await router.close();
  });
});
