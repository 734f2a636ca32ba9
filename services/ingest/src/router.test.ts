import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BinanceError, type BackfillRequest, type BackfillResult, type FrameTrade as BinanceTrade } from '@cvd/binance';
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

function setup(serve: (req: BackfillRequest) => BackfillResult, tail: { tailSilenceMs?: number; tailSilenceMaxMs?: number } = {}) {
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
    config: { backfillDelayMs: 40, backfillMaxIds: 1000, backfillConcurrency: 2, backfillAttempts: 3, reconnectInitialMs: 10, reconnectMaxMs: 50, ...tail },
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

  describe('tail probe after a reconnect (an outage at the end of a stream reveals no gap)', () => {
    /** REST holds ids 1..`upTo` of every symbol. */
    const serveUpTo =
      (upTo: number) =>
      (req: BackfillRequest): BackfillResult => {
        const trades: BinanceTrade[] = [];
        for (let a = req.fromId; a < req.toIdExclusive && a <= upTo; a++) trades.push(trade(a, req.symbol));
        const from = Math.max(req.fromId, upTo + 1);
        const missing = from < req.toIdExclusive ? [{ fromId: from, toIdExclusive: req.toIdExclusive, reason: 'not_served' as const }] : [];
        return { trades, missing, missingCount: missing.reduce((n, m) => n + m.toIdExclusive - m.fromId, 0), pages: 1 };
      };

    test('the last trades lost in the outage are fetched once the symbol stays silent, then frames are deduped', async () => {
      const { router, published, requests } = setup(serveUpTo(8));
      router.activate('spot', 'BTCUSDT');
      for (const a of [1, 2, 3, 4, 5]) router.onWsTrade(trade(a), Date.now());
      // Ids 6..8 happened while the connection was down; nothing after them.
      router.resumed('spot', ['BTCUSDT']);
      await sleep(150);
      assert.deepEqual(requests, [{ from: 6, to: 1006 }]);
      assert.deepEqual(published.map((t) => [t.aggId, t.recovered]), [
        [1, false],
        [2, false],
        [3, false],
        [4, false],
        [5, false],
        [6, true],
        [7, true],
        [8, true],
      ]);
      assert.equal(router.lastIds().get('spot:BTCUSDT'), 8);
      assert.equal(router.stats.tailProbes, 1);
      assert.equal(router.stats.unrecoverable, 0, 'REST having nothing newer is not a loss');
      // A late websocket copy of a probed id is a duplicate; the next id is published.
      router.onWsTrade(trade(8), Date.now());
      router.onWsTrade(trade(9), Date.now());
      assert.deepEqual(published.slice(8).map((t) => t.aggId), [9]);
      assert.equal(router.stats.duplicates, 1);
      await router.close();
    });

    test('without a reconnect nothing is probed; without the probe the tail would stay missing', async () => {
      const { router, published, requests } = setup(serveUpTo(8));
      router.activate('spot', 'BTCUSDT');
      for (const a of [1, 2, 3, 4, 5]) router.onWsTrade(trade(a), Date.now());
      await sleep(150);
      assert.deepEqual(requests, [], 'no gap was ever revealed');
      assert.deepEqual(published.map((t) => t.aggId), [1, 2, 3, 4, 5]);
      await router.close();
    });

    test('a symbol heard from after the reconnect, or with no id yet, is not probed', async () => {
      const { router, published, requests } = setup(serveUpTo(20));
      router.activate('spot', 'BTCUSDT');
      router.activate('spot', 'ETHUSDT');
      router.activate('spot', 'SOLUSDT');
      router.onWsTrade(trade(1), Date.now());
      router.onWsTrade(trade(1, 'ETHUSDT'), Date.now());
      router.resumed('spot', ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'NOTACTIVE']);
      router.onWsTrade(trade(2), Date.now()); // BTCUSDT trades again: a gap would show the normal way
      await sleep(150);
      assert.deepEqual(requests, [{ from: 2, to: 1002 }], 'only ETHUSDT (silent, id known)');
      assert.deepEqual(published.filter((t) => t.symbol === 'ETHUSDT').map((t) => t.aggId).slice(0, 3), [1, 2, 3]);
      assert.equal(published.filter((t) => t.symbol === 'ETHUSDT').length, 20);
      await router.close();
    });

    test('a symbol already probed at its last id since the reconnect is not probed again; a later reconnect probes anew', async () => {
      let upTo = 5;
      const { router, published, requests } = setup((req) => serveUpTo(upTo)(req));
      router.activate('spot', 'BTCUSDT');
      for (const a of [1, 2, 3, 4, 5]) router.onWsTrade(trade(a), Date.now());
      // Two connections carrying the symbol come back at about the same time.
      router.resumed('spot', ['BTCUSDT']);
      await sleep(5);
      router.resumed('spot', ['BTCUSDT']);
      await sleep(150);
      assert.deepEqual(requests, [{ from: 6, to: 1006 }], 'one probe for one outage');
      // A new outage later, during which ids 6 and 7 happened.
      upTo = 7;
      router.resumed('spot', ['BTCUSDT']);
      await sleep(150);
      assert.deepEqual(requests, [
        { from: 6, to: 1006 },
        { from: 6, to: 1006 },
      ]);
      assert.deepEqual(published.map((t) => t.aggId), [1, 2, 3, 4, 5, 6, 7]);
      await router.close();
    });

    test('a failed probe is retried with backoff up to backfillAttempts', async () => {
      let calls = 0;
      const { router, published, requests } = setup((req) => {
        calls += 1;
        if (calls === 1) {
          const missing = [{ fromId: req.fromId, toIdExclusive: req.toIdExclusive, reason: 'request_failed' as const }];
          return { trades: [], missing, missingCount: req.toIdExclusive - req.fromId, pages: 0, error: new BinanceError('server-error', 'boom') };
        }
        return serveUpTo(3)(req);
      });
      router.activate('spot', 'BTCUSDT');
      router.onWsTrade(trade(1), Date.now());
      router.resumed('spot', ['BTCUSDT']);
      await sleep(300);
      assert.deepEqual(requests, [
        { from: 2, to: 1002 },
        { from: 2, to: 1002 },
      ]);
      assert.deepEqual(published.map((t) => t.aggId), [1, 2, 3]);
      await router.close();
    });
    test('a planned rotation probes the symbols then silent, like a reconnect', async () => {
      const { router, published, requests } = setup(serveUpTo(7));
      router.activate('spot', 'BTCUSDT');
      for (const a of [1, 2, 3, 4, 5]) router.onWsTrade(trade(a), Date.now());
      router.rotated('spot', ['BTCUSDT']);
      await sleep(150);
      assert.deepEqual(requests, [{ from: 6, to: 1006 }]);
      assert.deepEqual(published.map((t) => t.aggId), [1, 2, 3, 4, 5, 6, 7]);
      assert.equal(router.tailProbesByReason.rotation, 1);
      await router.close();
    });

    test('a symbol silent while its connection is up gets its tail probed (tailSilenceMs), less often while it stays quiet', async () => {
      let upTo = 5;
      const { router, published, requests } = setup((req) => serveUpTo(upTo)(req), { tailSilenceMs: 60, tailSilenceMaxMs: 120 });
      router.activate('spot', 'BTCUSDT');
      for (const a of [1, 2, 3, 4, 5]) router.onWsTrade(trade(a), Date.now());
      upTo = 9; // ids 6..9 were sent into a stalled stream
      await sleep(200);
      assert.deepEqual(requests[0], { from: 6, to: 1006 });
      assert.deepEqual(published.map((t) => t.aggId), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.ok(router.tailProbesByReason.silence >= 1);
      await router.close();
    });
  });
});
