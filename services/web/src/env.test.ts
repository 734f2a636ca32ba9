import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWebEnv } from './env.js';

test('defaults', () => {
  const env = parseWebEnv({});
  assert.equal(env.WEB_HOST, '127.0.0.1');
  assert.equal(env.WEB_PORT, 8080);
  assert.equal(env.WEB_BAR_TABLE, 'cvd_bars_1m');
  assert.equal(env.QUESTDB_HTTP_URL, 'http://127.0.0.1:9000');
  assert.equal(env.LOG_LEVEL, 'info');
  assert.deepEqual(env.KAFKA_BROKERS, ['127.0.0.1:9092']);
  assert.equal(env.TOPIC_BARS, 'cvd.bars.v1');
  assert.equal(env.WEB_STREAM_MAX_CLIENTS, 256);
  assert.equal(env.WEB_STREAM_MAX_PENDING, 2000);
});

test('Kafka and stream settings are read', () => {
  const env = parseWebEnv({ KAFKA_BROKERS: 'a:9092,b:9093', TOPIC_BARS: 'my.bars', WEB_STREAM_MAX_CLIENTS: '10', WEB_STREAM_MAX_PENDING: '50' });
  assert.deepEqual(env.KAFKA_BROKERS, ['a:9092', 'b:9093']);
  assert.equal(env.TOPIC_BARS, 'my.bars');
  assert.equal(env.WEB_STREAM_MAX_CLIENTS, 10);
  assert.equal(env.WEB_STREAM_MAX_PENDING, 50);
});

test('bad values fail with every variable named', () => {
  assert.throws(() => parseWebEnv({ WEB_PORT: '70000', WEB_BAR_TABLE: 'x; drop', LOG_LEVEL: 'loud', QUESTDB_HTTP_URL: 'ftp://x', TOPIC_BARS: '', WEB_STREAM_MAX_CLIENTS: '0', WEB_STREAM_MAX_PENDING: 'many' }), (err: Error) => {
    for (const v of ['WEB_PORT', 'WEB_BAR_TABLE', 'LOG_LEVEL', 'QUESTDB_HTTP_URL', 'TOPIC_BARS', 'WEB_STREAM_MAX_CLIENTS', 'WEB_STREAM_MAX_PENDING']) assert.match(err.message, new RegExp(v));
    return true;
  });
});
