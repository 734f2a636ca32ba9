import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackfillProgress } from './backfill.js';
import type { RestClient, RestClientOptions } from './rest-client.js';
import { fakeClock, json, row, restTestServer, testClient, type FakeClock } from './rest-test-server.js';

const srv = restTestServer();
const client = (clock: FakeClock, extra: Partial<RestClientOptions> = {}): RestClient => testClient(srv, clock, extra);

describe('backfill over REST', () => {
  /** Serves aggTrades of one symbol from ids `available`, like Binance: from fromId, up to limit. */
  function aggTradeServer(available: (id: number) => boolean, maxId: number): void {
    srv.handler = (u, res) => {
      const fromId = Number(u.searchParams.get('fromId'));
      const limit = Number(u.searchParams.get('limit') ?? 500);
      const rows: unknown[] = [];
      for (let id = fromId; id <= maxId && rows.length < limit; id++) if (available(id)) rows.push(row(id));
      json(res, rows, { 'X-MBX-USED-WEIGHT-1M': String(srv.hits.length * 20) });
    };
  }

  it('pages fromId by 1000 up to the first id held, in id order, with progress', async () => {
    aggTradeServer(() => true, 10_000);
    const progress: BackfillProgress[] = [];
    const r = await client(fakeClock()).backfill({
      market: 'usdm',
      symbol: 'BTCUSDT',
      fromId: 100,
      toIdExclusive: 2600,
      onProgress: (p) => progress.push(p),
    });
    assert.equal(r.trades.length, 2500);
    assert.deepEqual(r.trades.map((t) => t.aggId), Array.from({ length: 2500 }, (_, i) => 100 + i));
    assert.deepEqual(r.missing, []);
    assert.equal(r.missingCount, 0);
    assert.equal(r.error, undefined);
    assert.deepEqual(srv.hits.map((h) => [h.searchParams.get('fromId'), h.searchParams.get('limit')]), [
      ['100', '1000'],
      ['1100', '1000'],
      ['2100', '500'],
    ]);
    assert.deepEqual(progress.map((p) => [p.pages, p.fetched, p.nextId]), [
      [1, 1000, 1100],
      [2, 2000, 2100],
      [3, 2500, 2600],
    ]);
  });

  it('reports ids REST does not serve: beyond retention, a hole, and not yet available', async () => {
    aggTradeServer((id) => id >= 150 && (id < 200 || id >= 210), 279);
    const r = await client(fakeClock()).backfill({ market: 'coinm', symbol: 'BTCUSD_PERP', fromId: 100, toIdExclusive: 300 });
    assert.deepEqual(r.missing, [
      { fromId: 100, toIdExclusive: 150, reason: 'not_served' },
      { fromId: 200, toIdExclusive: 210, reason: 'not_served' },
      { fromId: 280, toIdExclusive: 300, reason: 'not_served' },
    ]);
    assert.equal(r.missingCount, 80);
    assert.equal(r.trades.length, 120);
    assert.equal(r.trades[0]?.aggId, 150);
    assert.equal(r.pages, 1);
  });

  it('nothing served at all: the whole range is missing', async () => {
    aggTradeServer(() => false, 0);
    const r = await client(fakeClock()).backfill({ market: 'spot', symbol: 'BTCUSDT', fromId: 5, toIdExclusive: 9 });
    assert.deepEqual(r.trades, []);
    assert.deepEqual(r.missing, [{ fromId: 5, toIdExclusive: 9, reason: 'not_served' }]);
  });

  it('a refused request stops the backfill, keeps what it got and marks the rest request_failed', async () => {
    let calls = 0;
    srv.handler = (u, res) => {
      calls += 1;
      if (calls === 2) return void res.writeHead(418, { 'Retry-After': '300' }).end();
      const fromId = Number(u.searchParams.get('fromId'));
      json(res, Array.from({ length: 1000 }, (_, i) => row(fromId + i)));
    };
    const r = await client(fakeClock()).backfill({ market: 'usdm', symbol: 'BTCUSDT', fromId: 0, toIdExclusive: 3000 });
    assert.equal(r.trades.length, 1000);
    assert.deepEqual(r.missing, [{ fromId: 1000, toIdExclusive: 3000, reason: 'request_failed' }]);
    assert.equal(r.error?.code, 'ip-banned');
    assert.equal(r.error?.retriable, false);
  });

  it('an empty range makes no request', async () => {
    const r = await client(fakeClock()).backfill({ market: 'spot', symbol: 'BTCUSDT', fromId: 7, toIdExclusive: 7 });
    assert.deepEqual([r.trades, r.missing, r.pages, srv.hits.length], [[], [], 0, 0]);
  });
});
