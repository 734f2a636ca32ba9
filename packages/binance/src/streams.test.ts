import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BinanceError } from './errors.js';
import { MARKET_CONFIGS, marketConfig } from './market.js';
import {
  combinedStreamUrl,
  listSubscriptionsMessage,
  rawStreamUrl,
  streamName,
  subscribeMessage,
  unsubscribeMessage,
} from './streams.js';

const invalidArgument = (err: unknown): boolean => err instanceof BinanceError && err.code === 'invalid-argument';

describe('streamName', () => {
  it('lowercases ASCII and appends @aggTrade', () => {
    assert.equal(streamName('BTCUSDT'), 'btcusdt@aggTrade');
    assert.equal(streamName('ETHUSD_210924'), 'ethusd_210924@aggTrade');
  });
  it('keeps non-ASCII characters as they are', () => {
    assert.equal(streamName('币安人生USDT'), '币安人生usdt@aggTrade');
    // Full Unicode lowercasing would turn İ into two code points; Binance symbols must not change length.
    assert.equal(streamName('İX'), 'İx@aggTrade');
  });
  it('refuses symbols that would break a stream name or URL', () => {
    for (const bad of ['', 'BTC USDT', 'BTC/USDT', 'a@b', 'x?y', 'A:B', 'x'.repeat(65)]) {
      assert.throws(() => streamName(bad), invalidArgument, bad);
    }
  });
});

describe('stream URLs', () => {
  it('spot raw and combined', () => {
    assert.equal(rawStreamUrl('spot', 'btcusdt@aggTrade'), 'wss://stream.binance.com:9443/ws/btcusdt@aggTrade');
    assert.equal(
      combinedStreamUrl('spot', ['btcusdt@aggTrade', 'ethusdt@aggTrade']),
      'wss://stream.binance.com:9443/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade',
    );
  });
  it('USD-M lives under /market', () => {
    assert.equal(rawStreamUrl('usdm', 'btcusdt@aggTrade'), 'wss://fstream.binance.com/market/ws/btcusdt@aggTrade');
    assert.equal(
      combinedStreamUrl('usdm', ['btcusdt@aggTrade', 'ethusdt@aggTrade']),
      'wss://fstream.binance.com/market/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade',
    );
    assert.equal(rawStreamUrl('usdm'), 'wss://fstream.binance.com/market/ws');
  });
  it('USD-M keeps /market behind an overridden base URL (a simulator)', () => {
    assert.equal(
      rawStreamUrl('usdm', 'btcusdt@aggTrade', { wsBaseUrl: 'ws://127.0.0.1:9000/' }),
      'ws://127.0.0.1:9000/market/ws/btcusdt@aggTrade',
    );
    assert.equal(
      combinedStreamUrl('usdm', ['a@aggTrade'], { wsBaseUrl: 'ws://h:1', wsPathPrefix: '/public' }),
      'ws://h:1/public/stream?streams=a@aggTrade',
    );
  });
  it('COIN-M has no prefix', () => {
    assert.equal(rawStreamUrl('coinm', 'btcusd_perp@aggTrade'), 'wss://dstream.binance.com/ws/btcusd_perp@aggTrade');
    assert.equal(combinedStreamUrl('coinm', ['btcusd_perp@aggTrade']), 'wss://dstream.binance.com/stream?streams=btcusd_perp@aggTrade');
  });
  it('spot microseconds is a query parameter; futures refuse it', () => {
    assert.equal(
      rawStreamUrl('spot', 'btcusdt@aggTrade', { timeUnit: 'MICROSECOND' }),
      'wss://stream.binance.com:9443/ws/btcusdt@aggTrade?timeUnit=MICROSECOND',
    );
    assert.equal(
      combinedStreamUrl('spot', ['a@aggTrade', 'b@aggTrade'], { timeUnit: 'MICROSECOND' }),
      'wss://stream.binance.com:9443/stream?streams=a@aggTrade/b@aggTrade&timeUnit=MICROSECOND',
    );
    assert.throws(() => rawStreamUrl('usdm', 'a@aggTrade', { timeUnit: 'MICROSECOND' }), invalidArgument);
  });
  it('percent-encodes non-ASCII stream names as UTF-8 and the URL parses back', () => {
    const url = rawStreamUrl('spot', streamName('币安人生USDT'));
    assert.equal(url, 'wss://stream.binance.com:9443/ws/%E5%B8%81%E5%AE%89%E4%BA%BA%E7%94%9Fusdt@aggTrade');
    assert.equal(decodeURIComponent(new URL(url).pathname), '/ws/币安人生usdt@aggTrade');
  });
  it('enforces streams per connection', () => {
    const names = Array.from({ length: 1025 }, (_, i) => `s${i}@aggTrade`);
    assert.throws(() => combinedStreamUrl('spot', names), invalidArgument);
    assert.doesNotThrow(() => combinedStreamUrl('spot', names.slice(0, 1024)));
    assert.throws(() => combinedStreamUrl('spot', names.slice(0, 3), { streamsPerConnection: 2 }), invalidArgument);
  });
});

describe('subscription messages', () => {
  it('SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS', () => {
    assert.equal(subscribeMessage(['btcusdt@aggTrade'], 1), '{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":1}');
    assert.equal(unsubscribeMessage(['a@aggTrade', 'b@aggTrade'], 2), '{"method":"UNSUBSCRIBE","params":["a@aggTrade","b@aggTrade"],"id":2}');
    assert.equal(listSubscriptionsMessage(3), '{"method":"LIST_SUBSCRIPTIONS","id":3}');
  });
  it('refuses empty params and bad ids', () => {
    assert.throws(() => subscribeMessage([], 1), invalidArgument);
    assert.throws(() => subscribeMessage(['a@aggTrade'], -1), invalidArgument);
    assert.throws(() => listSubscriptionsMessage(1.5), invalidArgument);
  });
});

describe('MARKET_CONFIGS', () => {
  it('holds the documented defaults', () => {
    assert.equal(MARKET_CONFIGS.spot.aggTradesPath, '/api/v3/aggTrades');
    assert.equal(MARKET_CONFIGS.usdm.aggTradesPath, '/fapi/v1/aggTrades');
    assert.equal(MARKET_CONFIGS.coinm.aggTradesPath, '/dapi/v1/aggTrades');
    assert.equal(MARKET_CONFIGS.spot.clientMessagesPerSecond, 5);
    assert.equal(MARKET_CONFIGS.usdm.clientMessagesPerSecond, 10);
    assert.equal(MARKET_CONFIGS.usdm.weightPool, MARKET_CONFIGS.coinm.weightPool);
    for (const m of Object.values(MARKET_CONFIGS)) {
      assert.equal(m.streamsPerConnection, 1024);
      assert.equal(m.forcedDisconnectMs, 86_400_000);
      assert.ok(m.weightBudgetPerMinute < m.weightLimitPerMinute);
    }
  });
  it('marketConfig overrides anything, weights partially', () => {
    const c = marketConfig('usdm', { restBaseUrl: 'http://127.0.0.1:1/', weights: { aggTrades: 5 }, pingIntervalMs: 1 });
    assert.equal(c.restBaseUrl, 'http://127.0.0.1:1');
    assert.deepEqual(c.weights, { aggTrades: 5, exchangeInfo: 1 });
    assert.equal(c.pingIntervalMs, 1);
    assert.equal(c.wsPathPrefix, '/market');
    assert.equal(MARKET_CONFIGS.usdm.weights.aggTrades, 20, 'defaults untouched');
  });
});
