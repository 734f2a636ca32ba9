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
});

test('bad values fail with every variable named', () => {
  assert.throws(() => parseWebEnv({ WEB_PORT: '70000', WEB_BAR_TABLE: 'x; drop', LOG_LEVEL: 'loud', QUESTDB_HTTP_URL: 'ftp://x' }), (err: Error) => {
    for (const v of ['WEB_PORT', 'WEB_BAR_TABLE', 'LOG_LEVEL', 'QUESTDB_HTTP_URL']) assert.match(err.message, new RegExp(v));
    return true;
  });
});
