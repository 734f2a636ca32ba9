import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BinanceError } from '../errors.js';
import type { RestClient, RestClientOptions } from './rest-client.js';
import { fakeClock, restTestServer, testClient, type FakeClock } from './rest-test-server.js';

// Its own file, so its own server: the requests this test gives up on may still reach the
// server later, and must not meet another test's handler.
const srv = restTestServer();
const client = (clock: FakeClock, extra: Partial<RestClientOptions> = {}): RestClient => testClient(srv, clock, extra);

describe('aggTrades', () => {
  it('a silent server times out (retriable); the caller signal aborts (not retriable)', async () => {
    srv.handler = () => undefined; // never answers
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
});
