import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '@cvd/common';
import { DEFAULT_CONNECTION_LIFETIME_MS, parseIngestEnv } from './env.js';

describe('parseIngestEnv', () => {
  test('defaults: live Binance, Binance limits, 60 s silence, 23 h 30 min lifetime, 1 s backfill delay', () => {
    const { config } = parseIngestEnv({});
    assert.equal(config.markets.spot.wsBaseUrl, 'wss://stream.binance.com:9443');
    assert.equal(config.markets.usdm.wsBaseUrl, 'wss://fstream.binance.com');
    assert.equal(config.markets.coinm.restBaseUrl, 'https://dapi.binance.com');
    assert.equal(config.markets.spot.messagesPerSecond, 5);
    assert.equal(config.markets.usdm.messagesPerSecond, 10);
    assert.equal(config.streamsPerConnection, 1024);
    assert.equal(config.silenceTimeoutMs, 60_000);
    assert.equal(config.connectionLifetimeMs, DEFAULT_CONNECTION_LIFETIME_MS);
    assert.equal(config.connectionLifetimeMs, 84_600_000);
    assert.equal(config.backfillDelayMs, 1_000);
    assert.equal(config.opsPort, 9464);
    assert.equal(config.topics.trades, 'cvd.trades.v1');
  });

  test('batching is on by default: 5 ms linger, at most 500 trades per record', () => {
    const { config } = parseIngestEnv({});
    assert.equal(config.batchLingerMs, 5);
    assert.equal(config.batchMaxTrades, 500);
    const o = parseIngestEnv({ INGEST_BATCH_LINGER: '0', INGEST_BATCH_MAX_TRADES: '1' }).config;
    assert.equal(o.batchLingerMs, 0);
    assert.equal(o.batchMaxTrades, 1);
    assert.equal(parseIngestEnv({ INGEST_BATCH_LINGER: '20ms', INGEST_BATCH_MAX_TRADES: '2000' }).config.batchLingerMs, 20);
  });

  test('bad batch settings are refused with the variable named', () => {
    for (const [name, value, why] of [
      ['INGEST_BATCH_LINGER', '5', /duration/],
      ['INGEST_BATCH_LINGER', '2s', /at most 1s/],
      ['INGEST_BATCH_MAX_TRADES', '0', /integer 1-10000/],
      ['INGEST_BATCH_MAX_TRADES', '10001', /integer 1-10000/],
      ['INGEST_BATCH_MAX_TRADES', 'many', /integer 1-10000/],
    ] as const) {
      assert.throws(
        () => parseIngestEnv({ [name]: value }),
        (err: unknown) => err instanceof ConfigError && err.code === 'invalid-env' && err.message.includes(name) && why.test(err.message),
        `${name}=${value}`,
      );
    }
  });

  test('overrides', () => {
    const { config } = parseIngestEnv({
      BINANCE_USDM_WS_URL: 'ws://127.0.0.1:9000/usdm/',
      INGEST_STREAMS_PER_CONNECTION: '200',
      INGEST_CONNECTION_LIFETIME: '1410m',
      INGEST_SILENCE_TIMEOUT: '5s',
      TOPIC_SYMBOLS: 'x.symbols',
    });
    assert.equal(config.markets.usdm.wsBaseUrl, 'ws://127.0.0.1:9000/usdm');
    assert.equal(config.streamsPerConnection, 200);
    assert.equal(config.connectionLifetimeMs, 84_600_000);
    assert.equal(config.silenceTimeoutMs, 5_000);
    assert.equal(config.topics.symbols, 'x.symbols');
  });

  test('bad values fail with one ConfigError naming each variable', () => {
    assert.throws(
      () => parseIngestEnv({ INGEST_STREAMS_PER_CONNECTION: '0', INGEST_SILENCE_TIMEOUT: '60', BINANCE_SPOT_WS_URL: 'nope' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === 'invalid-env' &&
        /INGEST_STREAMS_PER_CONNECTION/.test(err.message) &&
        /INGEST_SILENCE_TIMEOUT/.test(err.message) &&
        /BINANCE_SPOT_WS_URL/.test(err.message),
    );
  });
});
