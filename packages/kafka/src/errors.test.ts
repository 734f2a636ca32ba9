import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, CvdError, isRetriable } from '@cvd/common';
import { kafkaSettingsFromEnv, type KafkaEnv } from './env.js';
import { KAFKA_ERROR_CODES, KafkaError } from './errors.js';

test('KafkaError is a CvdError with kebab-case codes; only timeouts are retriable', () => {
  for (const code of KAFKA_ERROR_CODES) {
    assert.match(code, /^[a-z]+(-[a-z]+)*$/);
    const err = new KafkaError(code, 'x', { cause: new Error('inner') });
    assert.ok(err instanceof CvdError);
    assert.equal(err.name, 'KafkaError');
    assert.ok(err.cause instanceof Error);
    assert.equal(isRetriable(err), code === 'timeout' || code === 'send-timeout');
  }
});

test('SASL without credentials is bad configuration (a ConfigError, exit status 2), naming no secret', () => {
  const env = { KAFKA_BROKERS: ['127.0.0.1:9092'], KAFKA_SSL: false, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'hunter2' } as unknown as KafkaEnv;
  assert.throws(
    () => kafkaSettingsFromEnv(env, 'test'),
    (err: unknown) => err instanceof ConfigError && err.code === 'invalid-env' && /KAFKA_SASL_USERNAME/.test(err.message) && !err.message.includes('hunter2'),
  );
});
