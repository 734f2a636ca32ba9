import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnv } from '@cvd/common';
import { z } from 'zod';
import { ilpConfigString, questdbEnvShape, questdbSettingsFromEnv } from './settings.js';

test('ILP config string carries address, manual flush and credentials', () => {
  assert.equal(ilpConfigString({ httpUrl: 'http://127.0.0.1:9000' }), 'http::addr=127.0.0.1:9000;auto_flush=off;request_timeout=10000;');
  assert.match(ilpConfigString({ httpUrl: 'https://db.example:443', username: 'u', password: 'p' }), /^https::addr=db\.example:443;.*username=u;password=p;$/);
});

test('env defaults and validation', () => {
  const s = questdbSettingsFromEnv(parseEnv(z.object(questdbEnvShape), {}));
  assert.equal(s.httpUrl, 'http://127.0.0.1:9000');
  assert.equal(s.requestTimeoutMs, 10_000);
  assert.throws(() => parseEnv(z.object(questdbEnvShape), { QUESTDB_HTTP_URL: 'ftp://x' }), /QUESTDB_HTTP_URL/);
});

test('credentials with ; are escaped, and env credentials reach the settings', () => {
  assert.match(ilpConfigString({ httpUrl: 'http://h:9000', username: 'u;x', password: 'p;;w' }), /username=u;;x;password=p;;;;w;$/);
  const s = questdbSettingsFromEnv(parseEnv(z.object(questdbEnvShape), { QUESTDB_USERNAME: 'admin', QUESTDB_PASSWORD: 'secret', QUESTDB_TOKEN: 't' }));
  assert.equal(s.username, 'admin');
  assert.equal(s.password, 'secret');
  assert.equal(s.token, 't');
});
