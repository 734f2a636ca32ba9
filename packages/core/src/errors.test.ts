import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CvdError, ConfigError, isRetriable, toError } from './errors.js';

const CODES = ['boom', 'blip'] as const;
class TestError extends CvdError<(typeof CODES)[number]> {}

test('CvdError carries code, retriable, cause and its subclass name', () => {
  const cause = new Error('socket hang up');
  const err = new TestError('blip', 'temporarily broken', { retriable: true, cause });
  assert.ok(err instanceof Error);
  assert.ok(err instanceof CvdError);
  assert.equal(err.name, 'TestError');
  assert.equal(err.code, 'blip');
  assert.equal(err.retriable, true);
  assert.equal(err.cause, cause);
  assert.equal(err.message, 'temporarily broken');
});

test('retriable defaults to false and cause is absent when not given', () => {
  const err = new TestError('boom', 'x');
  assert.equal(err.retriable, false);
  assert.equal('cause' in err, false);
});

test('ConfigError is never retriable', () => {
  assert.equal(isRetriable(new ConfigError('invalid-env', 'bad')), false);
});

test('isRetriable: CvdError flag, transient system codes, aborts and unknowns', () => {
  assert.equal(isRetriable(new TestError('blip', 'x', { retriable: true })), true);
  assert.equal(isRetriable(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), true);
  assert.equal(isRetriable(Object.assign(new Error('nope'), { code: 'ENOENT' })), false);
  const abort = new Error('aborted');
  abort.name = 'AbortError';
  assert.equal(isRetriable(Object.assign(abort, { code: 'ECONNRESET' })), false);
  assert.equal(isRetriable(new Error('plain')), false);
  assert.equal(isRetriable('string'), false);
  assert.equal(isRetriable(null), false);
});

test('toError wraps non-errors', () => {
  const e = new Error('x');
  assert.equal(toError(e), e);
  assert.equal(toError('s').message, 's');
  assert.match(toError({ a: 1 }).message, /\{"a":1\}/);
});
