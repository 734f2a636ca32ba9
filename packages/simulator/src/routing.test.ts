import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitMarketPath, wsRoute } from './routing.js';

const q = (s = ''): URLSearchParams => new URLSearchParams(s);

test('splitMarketPath: a prefix on the shared server, none on a market port', () => {
  assert.deepEqual(splitMarketPath(undefined, '/usdm/fapi/v1/aggTrades'), { market: 'usdm', path: '/fapi/v1/aggTrades' });
  assert.deepEqual(splitMarketPath(undefined, '/spot'), { market: 'spot', path: '/' });
  assert.equal(splitMarketPath(undefined, '/nope/ws'), undefined);
  assert.deepEqual(splitMarketPath('coinm', '/dapi/v1/exchangeInfo'), { market: 'coinm', path: '/dapi/v1/exchangeInfo' });
});

test('wsRoute: raw and combined paths, streams from the URL', () => {
  assert.deepEqual(wsRoute('spot', '/ws', q()), { deaf: false, combined: false, streams: [] });
  assert.deepEqual(wsRoute('spot', '/ws/btcusdt@aggTrade/ethusdt@aggTrade', q()), {
    deaf: false,
    combined: false,
    streams: ['btcusdt@aggTrade', 'ethusdt@aggTrade'],
  });
  assert.deepEqual(wsRoute('coinm', '/stream', q('streams=a@aggTrade/b@aggTrade')), {
    deaf: false,
    combined: true,
    streams: ['a@aggTrade', 'b@aggTrade'],
  });
  assert.equal(wsRoute('spot', '/other', q()), undefined);
});

test('wsRoute: USD-M carries aggTrade only under /market; other paths are deaf', () => {
  assert.equal(wsRoute('usdm', '/market/ws/btcusdt@aggTrade', q())?.deaf, false);
  assert.equal(wsRoute('usdm', '/public/ws/btcusdt@aggTrade', q())?.deaf, true);
  assert.equal(wsRoute('usdm', '/ws/btcusdt@aggTrade', q())?.deaf, true);
});
