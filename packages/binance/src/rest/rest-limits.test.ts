import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BinanceError } from '../errors.js';
import type { RestClient, RestClientOptions } from './rest-client.js';
import { fakeClock, isCode, json, restTestServer, row, testClient, type FakeClock } from './rest-test-server.js';

const srv = restTestServer();
const client = (clock: FakeClock, extra: Partial<RestClientOptions> = {}): RestClient => testClient(srv, clock, extra);

describe('request weight', () => {
  it('tracks X-MBX-USED-WEIGHT-1M and waits for the next minute rather than exceed the budget', async () => {
    const clock = fakeClock();
    let used = 4790;
    srv.handler = (_u, res) => {
      used += 4;
      json(res, [], { 'X-MBX-USED-WEIGHT-1M': String(used) });
    };
    const c = client(clock);
    await c.aggTrades({ market: 'spot', symbol: 'BTCUSDT' });
    assert.equal(c.weightUsage('spot').used, 4794);
    assert.equal(c.weightUsage('spot').budget, 4800);
    await c.aggTrades({ market: 'spot', symbol: 'BTCUSDT' }); // 4798: still fits
    assert.deepEqual(clock.sleeps, []);
    used = 0; // the server's new minute
    await c.aggTrades({ market: 'spot', symbol: 'BTCUSDT' }); // 4802 would not fit
    assert.equal(clock.sleeps.length, 1);
    assert.equal(srv.hits.length, 3);
    assert.ok(clock.now() >= 1_700_000_100_000, 'slept into the next minute');
    assert.equal(c.weightUsage('spot').used, 4);
  });

  it('accepts the lowercase -1m header spelling', async () => {
    srv.handler = (_u, res) => json(res, [], { 'X-MBX-USED-WEIGHT-1m': '1234' });
    const c = client(fakeClock());
    await c.aggTrades({ market: 'usdm', symbol: 'BTCUSDT' });
    assert.equal(c.weightUsage('usdm').used, 1234);
  });

  it('USD-M and COIN-M share one weight pool', async () => {
    srv.handler = (_u, res) => json(res, [], { 'x-mbx-used-weight-1m': '1900' });
    const c = client(fakeClock());
    await c.aggTrades({ market: 'usdm', symbol: 'BTCUSDT' });
    assert.equal(c.weightUsage('coinm').used, 1900);
    assert.equal(c.weightUsage('spot').used, 0);
  });

  it('counts its own weight when the server sends no header (configurable budget)', async () => {
    srv.handler = (_u, res) => json(res, []);
    const clock = fakeClock();
    const c = client(clock, { markets: { coinm: { restBaseUrl: srv.base, weightBudgetPerMinute: 45 } } });
    await c.aggTrades({ market: 'coinm', symbol: 'BTCUSD_PERP' });
    await c.aggTrades({ market: 'coinm', symbol: 'BTCUSD_PERP' });
    assert.deepEqual(clock.sleeps, []);
    await c.aggTrades({ market: 'coinm', symbol: 'BTCUSD_PERP' });
    assert.equal(clock.sleeps.length, 1);
  });
});

describe('429 and 418', () => {
  it('429: waits Retry-After, then retries', async () => {
    const clock = fakeClock();
    let calls = 0;
    srv.handler = (_u, res) => {
      calls += 1;
      if (calls === 1) res.writeHead(429, { 'Retry-After': '7' }).end('{"code":-1003,"msg":"Too many requests"}');
      else json(res, [row(5)]);
    };
    const trades = await client(clock).aggTrades({ market: 'spot', symbol: 'BTCUSDT' });
    assert.equal(trades.length, 1);
    assert.equal(calls, 2);
    assert.deepEqual(clock.sleeps, [7000]);
  });

  it('429: gives up after maxRetries with a retriable rate-limited error', async () => {
    const clock = fakeClock();
    srv.handler = (_u, res) => res.writeHead(429, { 'Retry-After': '2' }).end();
    await assert.rejects(client(clock, { maxRetries: 2 }).aggTrades({ market: 'usdm', symbol: 'BTCUSDT' }), (err: unknown) => {
      assert.ok(err instanceof BinanceError);
      assert.deepEqual([err.code, err.retriable, err.retryAfterMs, err.status], ['rate-limited', true, 2000, 429]);
      return true;
    });
    assert.equal(srv.hits.length, 3);
    assert.deepEqual(clock.sleeps, [2000, 2000]);
  });

  it('429: a Retry-After above the cap is returned to the caller instead of slept through', async () => {
    const clock = fakeClock();
    srv.handler = (_u, res) => res.writeHead(429, { 'Retry-After': '600' }).end();
    await assert.rejects(client(clock).aggTrades({ market: 'spot', symbol: 'BTCUSDT' }), isCode('rate-limited'));
    assert.deepEqual(clock.sleeps, []);
  });

  it('418: IP ban is not retriable, carries retry-after, and stops further calls until it ends', async () => {
    const clock = fakeClock();
    srv.handler = (_u, res) => res.writeHead(418, { 'Retry-After': '120' }).end('{"code":-1003,"msg":"banned"}');
    const c = client(clock);
    const banned = (err: unknown): boolean => {
      assert.ok(err instanceof BinanceError);
      assert.equal(err.code, 'ip-banned');
      assert.equal(err.retriable, false);
      assert.ok(err.retryAfterMs !== undefined && err.retryAfterMs > 0 && err.retryAfterMs <= 120_000);
      return true;
    };
    await assert.rejects(c.aggTrades({ market: 'spot', symbol: 'BTCUSDT' }), banned);
    assert.equal(srv.hits.length, 1);
    // The ban is per IP: no market may call, and nothing reaches the server.
    await assert.rejects(c.exchangeInfo('usdm'), banned);
    assert.equal(srv.hits.length, 1);
    assert.ok(c.weightUsage('coinm').bannedUntilMs > clock.now());
    await clock.sleep(120_000);
    srv.handler = (_u, res) => json(res, []);
    assert.deepEqual(await c.aggTrades({ market: 'spot', symbol: 'BTCUSDT' }), []);
  });
});
