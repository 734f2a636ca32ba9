import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CvdError, isRetriable } from '@cvd/core';
import { STACK_ERROR_CODES, StackError } from './errors.js';

test('StackError is a CvdError; only a download and a slow start are retriable', () => {
  const retriable = new Set(['download-failed', 'not-healthy']);
  const cause = new Error('mvn exit 1');
  for (const code of STACK_ERROR_CODES) {
    assert.match(code, /^[a-z]+(-[a-z]+)*$/);
    const err = new StackError(code, 'cvd stack: x', { cause });
    assert.ok(err instanceof CvdError);
    assert.equal(err.name, 'StackError');
    assert.equal(err.cause, cause);
    assert.equal(isRetriable(err), retriable.has(code), code);
  }
});
