import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigError } from '@cvd/core';
import { envBoolean, envDuration, envList, envLogLevel, envPort, parseDurationMs, parseEnv } from './env.js';

const Schema = z.object({
  OPS_PORT: envPort(),
  KAFKA_BROKERS: envList({ min: 1 }),
  FLUSH_INTERVAL: envDuration().default(1_000),
  DRY_RUN: envBoolean().default(false),
  LOG_LEVEL: envLogLevel().default('info'),
  KAFKA_SASL_PASSWORD: z.string().min(8, 'expected at least 8 characters').optional(),
});

test('parses valid values and applies defaults', () => {
  const env = parseEnv(Schema, { OPS_PORT: '9464', KAFKA_BROKERS: ' a:9092, b:9092 ,', DRY_RUN: 'TRUE', UNRELATED: 'x' });
  assert.deepEqual(env, {
    OPS_PORT: 9464,
    KAFKA_BROKERS: ['a:9092', 'b:9092'],
    FLUSH_INTERVAL: 1_000,
    DRY_RUN: true,
    LOG_LEVEL: 'info',
  });
});

test('one error lists every bad variable, redacting secrets', () => {
  let caught: unknown;
  try {
    parseEnv(Schema, {
      OPS_PORT: '70000',
      KAFKA_BROKERS: ' , ',
      FLUSH_INTERVAL: '5',
      DRY_RUN: 'yes',
      LOG_LEVEL: 'loud',
      KAFKA_SASL_PASSWORD: 'hunter2',
    });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError);
  assert.equal(caught.code, 'invalid-env');
  const msg = caught.message;
  assert.match(msg, /^Invalid environment \(6 variables\):/);
  assert.match(msg, /OPS_PORT="70000": expected a port number 0-65535/);
  assert.match(msg, /KAFKA_BROKERS=" , ": expected a comma-separated list of at least 1 item/);
  assert.match(msg, /FLUSH_INTERVAL="5": expected a duration/);
  assert.match(msg, /DRY_RUN="yes": expected true, false, 1 or 0/);
  assert.match(msg, /LOG_LEVEL="loud": expected one of fatal, error/);
  assert.match(msg, /KAFKA_SASL_PASSWORD=<redacted, 7 chars>: expected at least 8 characters/);
  assert.equal(msg.includes('hunter2'), false);
  assert.equal(msg.split('\n').length, 7);
});

test('missing required variables say (not set)', () => {
  assert.throws(
    () => parseEnv(Schema, {}),
    (err: unknown) =>
      err instanceof ConfigError &&
      /OPS_PORT=\(not set\): expected a port/.test(err.message) &&
      /KAFKA_BROKERS=\(not set\)/.test(err.message),
  );
});

test('durations', () => {
  assert.equal(parseDurationMs('250ms'), 250);
  assert.equal(parseDurationMs('5s'), 5_000);
  assert.equal(parseDurationMs('1.5s'), 1_500);
  assert.equal(parseDurationMs('2m'), 120_000);
  assert.equal(parseDurationMs('1h'), 3_600_000);
  assert.equal(parseDurationMs(' 0 '), 0);
  for (const bad of ['5', '', 's', '-1s', '5 s', '5d', '1e3ms']) assert.equal(parseDurationMs(bad), undefined, bad);
});

test('ports and booleans', () => {
  const S = z.object({ P: envPort(), B: envBoolean() });
  assert.deepEqual(parseEnv(S, { P: '0', B: '0' }), { P: 0, B: false });
  assert.deepEqual(parseEnv(S, { P: '65535', B: '1' }), { P: 65_535, B: true });
  for (const bad of ['-1', '65536', '80a', '', '1.5']) assert.throws(() => parseEnv(S, { P: bad, B: 'true' }), ConfigError);
});
