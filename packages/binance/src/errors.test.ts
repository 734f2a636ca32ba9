import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CvdError, isRetriable } from '@cvd/core';
import { DUMP_ERROR_CODES, DumpError } from './dumps.js';
import { BINANCE_ERROR_CODES, BinanceError } from './errors.js';

const KEBAB = /^[a-z]+(-[a-z]+)*$/;

test('BinanceError: network, timeout, 5xx, 429 and the WAF are retriable; bad input, other 4xx, 418 and aborts are not', () => {
  const retriable = new Set(['rate-limited', 'waf-blocked', 'server-error', 'network', 'timeout']);
  for (const code of BINANCE_ERROR_CODES) {
    assert.match(code, KEBAB);
    const err = new BinanceError(code, 'x');
    assert.ok(err instanceof CvdError);
    assert.equal(err.name, 'BinanceError');
    assert.equal(isRetriable(err), retriable.has(code), code);
  }
});

test('BinanceError keeps status, Binance code, Retry-After and cause', () => {
  const cause = new TypeError('fetch failed');
  const limited = new BinanceError('rate-limited', 'HTTP 429', { status: 429, retryAfterMs: 2_000, cause });
  assert.deepEqual([limited.status, limited.retryAfterMs, limited.cause, isRetriable(limited)], [429, 2_000, cause, true]);
  const banned = new BinanceError('ip-banned', 'HTTP 418', { status: 418, retryAfterMs: 120_000 });
  assert.deepEqual([banned.retryAfterMs, isRetriable(banned)], [120_000, false]);
  const refused = new BinanceError('bad-request', 'HTTP 400', { status: 400, binanceCode: -1121 });
  assert.deepEqual([refused.status, refused.binanceCode, isRetriable(refused)], [400, -1121, false]);
});

test('DumpError is a CvdError, never retriable, keeping its cause', () => {
  const cause = new Error('invalid block type');
  for (const code of DUMP_ERROR_CODES) {
    assert.match(code, KEBAB);
    const err = new DumpError(code, 'x', { cause });
    assert.ok(err instanceof CvdError);
    assert.equal(err.name, 'DumpError');
    assert.equal(err.cause, cause);
    assert.equal(isRetriable(err), false, code);
  }
});
