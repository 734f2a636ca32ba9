import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@cvd/common';
import { optionsFromEnv, parseConfigEnv } from './env.js';

test('defaults', () => {
  const env = parseConfigEnv({});
  assert.equal(env.CONFIG_FILE, 'config/symbols.yaml');
  assert.equal(env.CONFIG_ADMIN_HOST, '127.0.0.1');
  assert.equal(env.CONFIG_ADMIN_PORT, 8081);
  assert.equal(env.CONFIG_ADMIN_TOKEN, undefined);
  assert.equal(env.CONFIG_SELECTOR_REFRESH, 3_600_000);
  assert.equal(env.OPS_PORT, 9465);
  assert.equal(env.BINANCE_USDM_REST_URL, 'https://fapi.binance.com');
  const o = optionsFromEnv(env);
  assert.equal(o.topics.symbols, 'cvd.symbols.v1');
  assert.deepEqual(o.restUrls, { spot: 'https://api.binance.com', usdm: 'https://fapi.binance.com', coinm: 'https://dapi.binance.com' });
});

test('overrides', () => {
  const env = parseConfigEnv({
    CONFIG_SELECTOR_REFRESH: '5m',
    CONFIG_ADMIN_TOKEN: '0123456789abcdef0123',
    BINANCE_SPOT_REST_URL: 'http://127.0.0.1:9000/spot/',
    CONFIG_VERIFY_SYMBOLS: 'false',
  });
  assert.equal(env.CONFIG_SELECTOR_REFRESH, 300_000);
  assert.equal(env.BINANCE_SPOT_REST_URL, 'http://127.0.0.1:9000/spot');
  assert.equal(env.CONFIG_VERIFY_SYMBOLS, false);
});

test('bad values fail with one message that never shows the token', () => {
  const secret = 'short-secret';
  assert.throws(
    () => parseConfigEnv({ CONFIG_ADMIN_TOKEN: secret, CONFIG_ADMIN_PORT: '99999', BINANCE_USDM_REST_URL: 'ftp://x', CONFIG_SELECTOR_REFRESH: '10' }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'invalid-env');
      assert.match(err.message, /CONFIG_ADMIN_TOKEN=<redacted, 12 chars>: expected at least 16 characters/);
      assert.match(err.message, /CONFIG_ADMIN_PORT="99999": expected a port number/);
      assert.match(err.message, /BINANCE_USDM_REST_URL="ftp:\/\/x": expected an http\(s\) URL/);
      assert.match(err.message, /CONFIG_SELECTOR_REFRESH="10": expected a duration/);
      assert.doesNotMatch(err.message, new RegExp(secret));
      return true;
    },
  );
});
