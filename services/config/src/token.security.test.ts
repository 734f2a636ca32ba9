/**
 * Security properties of the admin API's configuration (issue 5): the token comparison runs
 * `timingSafeEqual` over equal-length SHA-256 digests whatever the inputs; the API and the ops
 * server bind to loopback unless configured; secrets in the environment are never echoed.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { describe, it, mock } from 'node:test';
import { createLogger, createMetricsRegistry } from '@cvd/common';
import { kafkaSettingsFromEnv } from '@cvd/kafka';
import { startAdminServer } from './admin-api.js';
import { optionsFromEnv, parseConfigEnv } from './env.js';
import { createConfigMetrics } from './metrics.js';
import { tokensEqual } from './token.js';

describe('tokensEqual', () => {
  it('compares with crypto.timingSafeEqual over two 32-byte digests, for any input lengths', () => {
    const spy = mock.method(crypto, 'timingSafeEqual');
    syncBuiltinESMExports();
    try {
      const expected = 'a-configured-admin-token-0123456789';
      const presented = ['', 'x', expected.slice(0, 10), expected, `${expected}x`, 'y'.repeat(10_000), '\u0000', '🔑'.repeat(40)];
      for (const p of presented) assert.equal(tokensEqual(p, expected), p === expected);
      assert.equal(spy.mock.callCount(), presented.length, 'every comparison goes through timingSafeEqual (no early length check)');
      for (const call of spy.mock.calls) {
        const [a, b] = call.arguments as [Buffer, Buffer];
        assert.equal(a.length, 32);
        assert.equal(b.length, 32);
        assert.deepEqual(b, crypto.createHash('sha256').update(expected).digest(), 'the digest of the configured token');
      }
      // The presented value is hashed, never compared raw.
      const first = spy.mock.calls[3]?.arguments[0] as Buffer;
      assert.deepEqual(first, crypto.createHash('sha256').update(expected).digest());
    } finally {
      spy.mock.restore();
      syncBuiltinESMExports();
    }
  });

  it('never throws on mismatched lengths or odd input and never matches an empty token', () => {
    assert.equal(tokensEqual('a'.repeat(1_000_000), 'b'), false);
    assert.equal(tokensEqual('', ''), false);
    assert.equal(tokensEqual('\ud800', '\ud800'), true);
  });
});

describe('bind addresses', () => {
  it('the admin API listens on 127.0.0.1 by default, in code and in the environment', async () => {
    const server = await startAdminServer({
      port: 0,
      token: undefined,
      logger: createLogger({ service: 'config', level: 'silent' }),
      metrics: createConfigMetrics(createMetricsRegistry('config')),
      handlers: { list: () => [], add: async () => ({ status: 200, body: {} }), remove: async () => ({ status: 200, body: {} }) },
    });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await server.close();
    }
    const opts = optionsFromEnv(parseConfigEnv({}));
    assert.equal(opts.admin?.host, '127.0.0.1');
    assert.equal(opts.ops?.host, '127.0.0.1');
    assert.equal(opts.admin?.token, undefined, 'no token unless configured: mutations are then refused with 503');
    assert.equal(optionsFromEnv(parseConfigEnv({ CONFIG_ADMIN_HOST: "0.0.0.0" })).admin?.host, '0.0.0.0', 'configurable');
  });
});

describe('environment → client settings, secrets never echoed', () => {
  it('Kafka SASL/TLS settings come from the environment', () => {
    const env = parseConfigEnv({ KAFKA_BROKERS: 'b1:9093, b2:9093', KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'cvd', KAFKA_SASL_PASSWORD: 'p@ss;word' });
    assert.deepEqual(kafkaSettingsFromEnv(env, 'cvd-config'), {
      brokers: ['b1:9093', 'b2:9093'],
      clientId: 'cvd-config',
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'cvd', password: 'p@ss;word' },
    });
    assert.deepEqual(kafkaSettingsFromEnv(parseConfigEnv({}), 'x'), { brokers: ['127.0.0.1:9092'], clientId: 'x', ssl: false });
    assert.throws(() => kafkaSettingsFromEnv(parseConfigEnv({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' }), 'x'), /KAFKA_SASL_PASSWORD is missing/);
  });

  it('a bad environment names the variables but never prints secret values', () => {
    const secrets = { CONFIG_ADMIN_TOKEN: 'short secret!', KAFKA_SASL_PASSWORD: 'hunter2-kafka-password', KAFKA_SASL_MECHANISM: 'gssapi-hunter3' };
    let message = '';
    try {
      parseConfigEnv({ ...secrets, OPS_PORT: '99999' });
    } catch (err) {
      message = (err as Error).message;
    }
    assert.match(message, /CONFIG_ADMIN_TOKEN=<redacted, 13 chars>/);
    assert.match(message, /KAFKA_SASL_MECHANISM=<redacted/);
    assert.match(message, /OPS_PORT="99999"/);
    for (const v of Object.values(secrets)) assert.ok(!message.includes(v), `message echoes ${v}`);
  });

  it('the settings logged at start-up are redacted by the service logger', () => {
    const lines: string[] = [];
    const logger = createLogger({ service: 'config', destination: { write: (s: string) => lines.push(s) } });
    const env = parseConfigEnv({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'pw-0123456789', CONFIG_ADMIN_TOKEN: 'tok-0123456789abcdef' });
    const options = optionsFromEnv(env);
    logger.info({ kafka: options.kafka, admin: options.admin }, 'settings');
    logger.info({ options }, 'all settings');
    logger.info({ env }, 'the whole environment');
    const text = lines.join('');
    for (const s of ['pw-0123456789', 'tok-0123456789abcdef']) assert.ok(!text.includes(s), `${s} logged: ${text}`);
  });
});
