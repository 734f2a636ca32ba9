import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { BinanceError } from '../errors.js';
import type { BackfillProgress } from './backfill.js';
import { RestClient } from './rest-client.js';
import type { RestClientOptions } from './rest-client.js';

type Handler = (url: URL, res: ServerResponse, req: IncomingMessage) => void;

/** A loopback HTTP server whose behaviour each test sets. */
let handler: Handler = (_u, res) => res.writeHead(500).end();
const hits: URL[] = [];
let base = '';
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  hits.push(url);
  handler(url, res, req);
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  hits.length = 0;
});

/** A fake clock: sleeping advances time at once and is recorded. */
function fakeClock(start = 1_700_000_040_000 + 10_000): { now: () => number; sleep: (ms: number) => Promise<void>; sleeps: number[] } {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

function client(clock: ReturnType<typeof fakeClock>, extra: Partial<RestClientOptions> = {}): RestClient {
  return new RestClient({
    now: clock.now,
    sleep: clock.sleep,
    markets: { spot: { restBaseUrl: base }, usdm: { restBaseUrl: base }, coinm: { restBaseUrl: base } },
    ...extra,
  });
}

const row = (id: number): Record<string, unknown> => ({
  a: id,
  p: '26123.45000000',
  q: '0.00120000',
  f: id * 2,
  l: id * 2 + 1,
  T: 1_700_000_000_000 + id,
  m: id % 2 === 0,
});

function json(res: ServerResponse, body: unknown, headers: Record<string, string> = {}, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

const isCode = (code: string) => (err: unknown): boolean => err instanceof BinanceError && err.code === code;

describe('aggTrades', () => {
  it('calls the market path with the query and parses rows (REST has no E: eventTimeMs = T)', async () => {
    handler = (_u, res) => json(res, [row(10), row(11)]);
    const c = client(fakeClock());
    for (const [market, path] of [
      ['spot', '/api/v3/aggTrades'],
      ['usdm', '/fapi/v1/aggTrades'],
      ['coinm', '/dapi/v1/aggTrades'],
    ] as const) {
      hits.length = 0;
      const trades = await c.aggTrades({ market, symbol: 'BTCUSDT', fromId: 10, limit: 2 });
      assert.equal(hits[0]?.pathname, path);
      assert.equal(hits[0]?.searchParams.toString(), 'symbol=BTCUSDT&fromId=10&limit=2');
      assert.deepEqual(trades[0], {
        market,
        symbol: 'BTCUSDT',
        aggId: 10,
        price: '26123.45000000',
        qty: '0.00120000',
        firstId: 20,
        lastId: 21,
        tradeTimeMs: 1_700_000_000_010,
        eventTimeMs: 1_700_000_000_010,
        buyerMaker: true,
      });
    }
  });

  it('spotTimeUnit MICROSECOND asks spot for microseconds and keeps tradeTimeUs', async () => {
    const seen: (string | undefined)[] = [];
    handler = (_u, res, req) => {
      seen.push(req.headers['x-mbx-time-unit'] as string | undefined);
      json(res, [{ ...row(1), T: 1_700_000_000_123_456 }]);
    };
    const c = client(fakeClock(), { spotTimeUnit: 'MICROSECOND' });
    const [t] = await c.aggTrades({ market: 'spot', symbol: 'BTCUSDT' });
    assert.equal(t?.tradeTimeMs, 1_700_000_000_123);
    assert.equal(t?.tradeTimeUs, 1_700_000_000_123_456);
    handler = (_u, res, req) => {
      seen.push(req.headers['x-mbx-time-unit'] as string | undefined);
      json(res, [row(1)]);
    };
    await c.aggTrades({ market: 'usdm', symbol: 'BTCUSDT' });
    assert.deepEqual(seen, ['MICROSECOND', undefined]);
  });

  it('URL-encodes non-ASCII symbols', async () => {
    handler = (_u, res) => json(res, []);
    await client(fakeClock()).aggTrades({ market: 'spot', symbol: '币安人生USDT', startTime: 1, endTime: 2 });
    assert.equal(hits[0]?.searchParams.get('symbol'), '币安人生USDT');
  });

  it('refuses invalid arguments before calling', async () => {
    const c = client(fakeClock());
    await assert.rejects(c.aggTrades({ market: 'usdm', symbol: 'BTCUSDT', fromId: 1, startTime: 5 }), isCode('invalid-argument'));
    await assert.rejects(c.aggTrades({ market: 'usdm', symbol: 'BTCUSDT', limit: 1001 }), isCode('invalid-argument'));
    await assert.rejects(c.aggTrades({ market: 'usdm', symbol: 'BTC USDT' }), isCode('invalid-argument'));
    assert.equal(hits.length, 0);
  });

  it('a malformed row is a bad-response naming the row and reason', async () => {
    handler = (_u, res) => json(res, [row(1), { ...row(2), q: -3 }]);
    await assert.rejects(client(fakeClock()).aggTrades({ market: 'spot', symbol: 'BTCUSDT' }), (err: unknown) => {
      assert.ok(err instanceof BinanceError);
      assert.equal(err.code, 'bad-response');
      assert.equal(err.retriable, false);
      assert.match(err.message, /row 1: "q" must be a decimal string/);
      return true;
    });
  });

  it('Binance 4xx errors carry the Binance code; 5xx are retriable', async () => {
    handler = (_u, res) => json(res, { code: -1121, msg: 'Invalid symbol.' }, {}, 400);
    await assert.rejects(client(fakeClock()).aggTrades({ market: 'spot', symbol: 'NOPE' }), (err: unknown) => {
      assert.ok(err instanceof BinanceError);
      assert.deepEqual([err.code, err.status, err.binanceCode, err.retriable], ['bad-request', 400, -1121, false]);
      return true;
    });
    handler = (_u, res) => res.writeHead(503).end('busy');
    await assert.rejects(client(fakeClock()).aggTrades({ market: 'spot', symbol: 'BTCUSDT' }), (err: unknown) => {
      assert.ok(err instanceof BinanceError);
      assert.deepEqual([err.code, err.status, err.retriable], ['server-error', 503, true]);
      return true;
    });
  });

  it('a silent server times out (retriable); the caller signal aborts (not retriable)', async () => {
    handler = () => undefined; // never answers
    const c = client(fakeClock(), { timeoutMs: 50 });
    await assert.rejects(c.aggTrades({ market: 'spot', symbol: 'BTCUSDT' }), (err: unknown) => {
      assert.ok(err instanceof BinanceError);
      assert.deepEqual([err.code, err.retriable], ['timeout', true]);
      return true;
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(client(fakeClock()).aggTrades({ market: 'spot', symbol: 'BTCUSDT', signal: ac.signal }), (err: unknown) => {
      assert.ok(err instanceof BinanceError);
      assert.deepEqual([err.code, err.retriable], ['aborted', false]);
      return true;
    });
  });

  it('an unreachable server is a retriable network error', async () => {
    const c = new RestClient({ markets: { spot: { restBaseUrl: 'http://127.0.0.1:1' } } });
    await assert.rejects(c.aggTrades({ market: 'spot', symbol: 'BTCUSDT' }), (err: unknown) => {
      assert.ok(err instanceof BinanceError);
      assert.equal(err.code, 'network');
      assert.equal(err.retriable, true);
      return true;
    });
  });
});

describe('request weight', () => {
  it('tracks X-MBX-USED-WEIGHT-1M and waits for the next minute rather than exceed the budget', async () => {
    const clock = fakeClock();
    let used = 4790;
    handler = (_u, res) => {
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
    assert.equal(hits.length, 3);
    assert.ok(clock.now() >= 1_700_000_100_000, 'slept into the next minute');
    assert.equal(c.weightUsage('spot').used, 4);
  });

  it('accepts the lowercase -1m header spelling', async () => {
    handler = (_u, res) => json(res, [], { 'X-MBX-USED-WEIGHT-1m': '1234' });
    const c = client(fakeClock());
    await c.aggTrades({ market: 'usdm', symbol: 'BTCUSDT' });
    assert.equal(c.weightUsage('usdm').used, 1234);
  });

  it('USD-M and COIN-M share one weight pool', async () => {
    handler = (_u, res) => json(res, [], { 'x-mbx-used-weight-1m': '1900' });
    const c = client(fakeClock());
    await c.aggTrades({ market: 'usdm', symbol: 'BTCUSDT' });
    assert.equal(c.weightUsage('coinm').used, 1900);
    assert.equal(c.weightUsage('spot').used, 0);
  });

  it('counts its own weight when the server sends no header (configurable budget)', async () => {
    handler = (_u, res) => json(res, []);
    const clock = fakeClock();
    const c = client(clock, { markets: { coinm: { restBaseUrl: base, weightBudgetPerMinute: 45 } } });
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
    handler = (_u, res) => {
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
    handler = (_u, res) => res.writeHead(429, { 'Retry-After': '2' }).end();
    await assert.rejects(client(clock, { maxRetries: 2 }).aggTrades({ market: 'usdm', symbol: 'BTCUSDT' }), (err: unknown) => {
      assert.ok(err instanceof BinanceError);
      assert.deepEqual([err.code, err.retriable, err.retryAfterMs, err.status], ['rate-limited', true, 2000, 429]);
      return true;
    });
    assert.equal(hits.length, 3);
    assert.deepEqual(clock.sleeps, [2000, 2000]);
  });

  it('429: a Retry-After above the cap is returned to the caller instead of slept through', async () => {
    const clock = fakeClock();
    handler = (_u, res) => res.writeHead(429, { 'Retry-After': '600' }).end();
    await assert.rejects(client(clock).aggTrades({ market: 'spot', symbol: 'BTCUSDT' }), isCode('rate-limited'));
    assert.deepEqual(clock.sleeps, []);
  });

  it('418: IP ban is not retriable, carries retry-after, and stops further calls until it ends', async () => {
    const clock = fakeClock();
    handler = (_u, res) => res.writeHead(418, { 'Retry-After': '120' }).end('{"code":-1003,"msg":"banned"}');
    const c = client(clock);
    const banned = (err: unknown): boolean => {
      assert.ok(err instanceof BinanceError);
      assert.equal(err.code, 'ip-banned');
      assert.equal(err.retriable, false);
      assert.ok(err.retryAfterMs !== undefined && err.retryAfterMs > 0 && err.retryAfterMs <= 120_000);
      return true;
    };
    await assert.rejects(c.aggTrades({ market: 'spot', symbol: 'BTCUSDT' }), banned);
    assert.equal(hits.length, 1);
    // The ban is per IP: no market may call, and nothing reaches the server.
    await assert.rejects(c.exchangeInfo('usdm'), banned);
    assert.equal(hits.length, 1);
    assert.ok(c.weightUsage('coinm').bannedUntilMs > clock.now());
    await clock.sleep(120_000);
    handler = (_u, res) => json(res, []);
    assert.deepEqual(await c.aggTrades({ market: 'spot', symbol: 'BTCUSDT' }), []);
  });
});

describe('exchangeInfo', () => {
  it('spot: status, assets and filters', async () => {
    handler = (u, res) => {
      assert.equal(u.pathname, '/api/v3/exchangeInfo');
      json(res, {
        timezone: 'UTC',
        symbols: [
          {
            symbol: 'BTCUSDT',
            status: 'TRADING',
            baseAsset: 'BTC',
            quoteAsset: 'USDT',
            filters: [
              { filterType: 'PRICE_FILTER', tickSize: '0.01000000' },
              { filterType: 'LOT_SIZE', stepSize: '0.00001000' },
            ],
          },
          { symbol: '币安人生USDT', status: 'BREAK', baseAsset: '币安人生', quoteAsset: 'USDT', extra: 1 },
        ],
      });
    };
    const info = await client(fakeClock()).exchangeInfo('spot');
    assert.deepEqual(info, [
      { market: 'spot', symbol: 'BTCUSDT', status: 'TRADING', baseAsset: 'BTC', quoteAsset: 'USDT', tickSize: '0.01000000', stepSize: '0.00001000' },
      { market: 'spot', symbol: '币安人生USDT', status: 'BREAK', baseAsset: '币安人生', quoteAsset: 'USDT' },
    ]);
  });

  it('COIN-M reads contractStatus; USD-M keeps contractType', async () => {
    handler = (u, res) => {
      if (u.pathname === '/dapi/v1/exchangeInfo') {
        json(res, {
          symbols: [
            { symbol: 'BTCUSD_PERP', pair: 'BTCUSD', contractType: 'PERPETUAL', contractStatus: 'TRADING', contractSize: 100, baseAsset: 'BTC', quoteAsset: 'USD' },
          ],
        });
      } else {
        assert.equal(u.pathname, '/fapi/v1/exchangeInfo');
        json(res, { symbols: [{ symbol: 'XUSDT', pair: 'XUSDT', contractType: 'PERPETUAL', status: 'SETTLING', baseAsset: 'X', quoteAsset: 'USDT' }] });
      }
    };
    const c = client(fakeClock());
    assert.deepEqual(await c.exchangeInfo('coinm'), [
      { market: 'coinm', symbol: 'BTCUSD_PERP', status: 'TRADING', baseAsset: 'BTC', quoteAsset: 'USD', contractType: 'PERPETUAL', pair: 'BTCUSD', contractSize: 100 },
    ]);
    const [u] = await c.exchangeInfo('usdm');
    assert.equal(u?.status, 'SETTLING');
    assert.equal(u?.contractType, 'PERPETUAL');
  });

  it('a body without symbols is a bad-response', async () => {
    handler = (_u, res) => json(res, { nope: true });
    await assert.rejects(client(fakeClock()).exchangeInfo('spot'), isCode('bad-response'));
  });
});

describe('backfill over REST', () => {
  /** Serves aggTrades of one symbol from ids `available`, like Binance: from fromId, up to limit. */
  function aggTradeServer(available: (id: number) => boolean, maxId: number): void {
    handler = (u, res) => {
      const fromId = Number(u.searchParams.get('fromId'));
      const limit = Number(u.searchParams.get('limit') ?? 500);
      const rows: unknown[] = [];
      for (let id = fromId; id <= maxId && rows.length < limit; id++) if (available(id)) rows.push(row(id));
      json(res, rows, { 'X-MBX-USED-WEIGHT-1M': String(hits.length * 20) });
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
    assert.deepEqual(hits.map((h) => [h.searchParams.get('fromId'), h.searchParams.get('limit')]), [
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
    handler = (u, res) => {
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
    assert.deepEqual([r.trades, r.missing, r.pages, hits.length], [[], [], 0, 0]);
  });
});
