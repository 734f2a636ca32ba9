import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRetriableKafkaError, withKafkaRetry } from './retry.js';

/** Shaped like a kafkajs error: a plain Error with kafkajs's own `retriable` flag. */
function kafkaError(message: string, retriable: boolean): Error {
  return Object.assign(new Error(message), { name: 'KafkaJSProtocolError', retriable });
}

test('kafkajs errors flagged retriable are retried until the call succeeds', async () => {
  let calls = 0;
  const value = await withKafkaRetry(async () => {
    calls++;
    if (calls < 3) throw kafkaError('leader not available', true);
    return 'ok';
  });
  assert.equal(value, 'ok');
  assert.equal(calls, 3);
});

test('an error kafkajs does not flag retriable is rethrown at once', async () => {
  let calls = 0;
  await assert.rejects(
    withKafkaRetry(async () => {
      calls++;
      throw kafkaError('topic authorization failed', false);
    }),
    /topic authorization failed/,
  );
  assert.equal(calls, 1);
});

test('retriable errors are rethrown once timeoutMs has passed', async () => {
  let calls = 0;
  await assert.rejects(
    withKafkaRetry(
      async () => {
        calls++;
        throw kafkaError('coordinator loading', true);
      },
      { timeoutMs: 0 },
    ),
    /coordinator loading/,
  );
  assert.equal(calls, 1);
});

test('isRetriableKafkaError reads only a true retriable flag', () => {
  assert.equal(isRetriableKafkaError(kafkaError('x', true)), true);
  assert.equal(isRetriableKafkaError(kafkaError('x', false)), false);
  assert.equal(isRetriableKafkaError(new Error('plain')), false);
  assert.equal(isRetriableKafkaError(undefined), false);
});
