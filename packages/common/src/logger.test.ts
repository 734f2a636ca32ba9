import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, REDACTED } from './logger.js';
import { CvdError } from '@cvd/core';
import { CaptureStream } from './capture-stream.js';

class DemoError extends CvdError<'demo'> {}

test('lines carry service, ISO time and a string level', () => {
  const out = new CaptureStream();
  const log = createLogger({ service: 'ingest', destination: out });
  log.child({ market: 'usdm', symbol: 'BTCUSDT' }).info({ n: 1 }, 'hello');
  const [line] = out.lines();
  assert.ok(line);
  assert.equal(line['service'], 'ingest');
  assert.equal(line['level'], 'info');
  assert.equal(line['market'], 'usdm');
  assert.equal(line['msg'], 'hello');
  assert.match(String(line['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('level filters lines', () => {
  const out = new CaptureStream();
  const log = createLogger({ service: 's', level: 'warn', destination: out });
  log.info('dropped');
  log.warn('kept');
  assert.deepEqual(
    out.lines().map((l) => l['msg']),
    ['kept'],
  );
});

test('secrets never reach the output', () => {
  const out = new CaptureStream();
  const log = createLogger({ service: 's', destination: out, redact: ['custom.field'] });
  const secret = 'S3CR3T-VALUE-42';
  log.info({ token: secret, password: secret, secret, authorization: `Bearer ${secret}` }, 'top');
  log.info({ kafka: { sasl: { mechanism: 'plain', username: 'u', password: secret } } }, 'nested');
  log.info({ config: { kafka: { sasl: secret }, api: { token: secret } } }, 'deeper');
  log.info({ headers: { authorization: secret, 'x-mbx-apikey': secret, accept: 'json' } }, 'headers');
  log.info({ req: { headers: { authorization: secret, cookie: secret } } }, 'req');
  log.info({ client: { apiKey: secret, apiSecret: secret } }, 'binance');
  log.info({ custom: { field: secret } }, 'extra path');
  log.child({ token: secret }).info('child bindings');
  assert.equal(out.text.includes(secret), false, out.text);
  assert.ok(out.text.includes(REDACTED));
  // Non-secret siblings survive.
  const headers = out.lines().find((l) => l['msg'] === 'headers')?.['headers'] as Record<string, unknown>;
  assert.equal(headers['accept'], 'json');
});

test('err serializer keeps type, code, retriable and cause', () => {
  const out = new CaptureStream();
  const log = createLogger({ service: 's', destination: out });
  const err = new DemoError('demo', 'outer', { retriable: true, cause: new Error('inner') });
  log.error({ err }, 'failed');
  const [line] = out.lines();
  const e = line?.['err'] as Record<string, unknown>;
  assert.equal(e['type'], 'DemoError');
  assert.equal(e['code'], 'demo');
  assert.equal(e['retriable'], true);
  assert.match(String(e['message']), /outer/);
  assert.match(JSON.stringify(e), /inner/);
  assert.ok(typeof e['stack'] === 'string');
});
