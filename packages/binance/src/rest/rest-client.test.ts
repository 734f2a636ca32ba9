import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BinanceError } from '../errors.js';
import { RestClient, type RestClientOptions } from './rest-client.js';
import { fakeClock, isCode, json, row, restTestServer, testClient, type FakeClock } from './rest-test-server.js';

const srv = restTestServer();
const client = (clock: FakeClock, extra: Partial<RestClientOptions> = {}): RestClient => testClient(srv, clock, extra);

describe('aggTrades', () => {
  it('calls the market path with the query and parses rows (REST has no E: eventTimeMs = T)', async () => {
    srv.handler = (_u, res) => json(res, [row(10), row(11)]);
    const c = client(fakeClock());
    for (const [market, path] of [
      ['spot', '/api/v3/aggTrades'],
      ['usdm', '/fapi/v1/aggTrades'],
      ['coinm', '/dapi/v1/aggTrades'],
    ] as const) {
      srv.hits.length = 0;
      const trades = await c.aggTrades({ market, symbol: 'BTCUSDT', fromId: 10, limit: 2 });
      assert.equal(srv.hits[0]?.pathname, path);
      assert.equal(srv.hits[0]?.searchParams.toString(), 'symbol=BTCUSDT&fromId=10&limit=2');
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
    srv.handler = (_u, res, req) => {
      seen.push(req.headers['x-mbx-time-unit'] as string | undefined);
      json(res, [{ ...row(1), T: 1_700_000_000_123_456 }]);
    };
    const c = client(fakeClock(), { spotTimeUnit: 'MICROSECOND' });
    const [t] = await c.aggTrades({ market: 'spot', symbol: 'BTCUSDT' });
    assert.equal(t?.tradeTimeMs, 1_700_000_000_123);
    assert.equal(t?.tradeTimeUs, 1_700_000_000_123_456);
    srv.handler = (_u, res, req) => {
      seen.push(req.headers['x-mbx-time-unit'] as string | undefined);
      json(res, [row(1)]);
    };
    await c.aggTrades({ market: 'usdm', symbol: 'BTCUSDT' });
    assert.deepEqual(seen, ['MICROSECOND', undefined]);
  });

  it('URL-encodes non-ASCII symbols', async () => {
    srv.handler = (_u, res) => json(res, []);
    await client(fakeClock()).aggTrades({ market: 'spot', symbol: '币安人生USDT', startTime: 1, endTime: 2 });
    assert.equal(srv.hits[0]?.searchParams.get('symbol'), '币安人生USDT');
  });

  it('refuses invalid arguments before calling', async () => {
    const c = client(fakeClock());
    await assert.rejects(c.aggTrades({ market: 'usdm', symbol: 'BTCUSDT', fromId: 1, startTime: 5 }), isCode('invalid-argument'));
    await assert.rejects(c.aggTrades({ market: 'usdm', symbol: 'BTCUSDT', limit: 1001 }), isCode('invalid-argument'));
    await assert.rejects(c.aggTrades({ market: 'usdm', symbol: 'BTC USDT' }), isCode('invalid-argument'));
    assert.equal(srv.hits.length, 0);
  });

  it('a malformed row is a bad-response naming the row and reason', async () => {
    srv.handler = (_u, res) => json(res, [row(1), { ...row(2), q: -3 }]);
    await assert.rejects(client(fakeClock()).aggTrades({ market: 'spot', symbol: 'BTCUSDT' }), (err: unknown) => {
      assert.ok(err instanceof BinanceError);
      assert.equal(err.code, 'bad-response');
      assert.equal(err.retriable, false);
      assert.match(err.message, /row 1: "q" must be a decimal string/);
      return true;
    });
  });

  it('Binance 4xx errors carry the Binance code; 5xx are retriable', async () => {
    srv.handler = (_u, res) => json(res, { code: -1121, msg: 'Invalid symbol.' }, {}, 400);
    await assert.rejects(client(fakeClock()).aggTrades({ market: 'spot', symbol: 'NOPE' }), (err: unknown) => {
      assert.ok(err instanceof BinanceError);
      assert.deepEqual([err.code, err.status, err.binanceCode, err.retriable], ['bad-request', 400, -1121, false]);
      return true;
    });
    srv.handler = (_u, res) => res.writeHead(503).end('busy');
    await assert.rejects(client(fakeClock()).aggTrades({ market: 'spot', symbol: 'BTCUSDT' }), (err: unknown) => {
      assert.ok(err instanceof BinanceError);
      assert.deepEqual([err.code, err.status, err.retriable], ['server-error', 503, true]);
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

describe('exchangeInfo', () => {
  it('spot: status, assets and filters', async () => {
    srv.handler = (u, res) => {
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
    srv.handler = (u, res) => {
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
    srv.handler = (_u, res) => json(res, { nope: true });
    await assert.rejects(client(fakeClock()).exchangeInfo('spot'), isCode('bad-response'));
  });
});
