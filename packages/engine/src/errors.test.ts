import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CvdError, isRetriable } from '@cvd/core';
import { ENGINE_ERROR_CODES, EngineError } from './errors.js';

test('EngineError is a CvdError with kebab-case codes, never retriable, keeping its cause', () => {
  const cause = new SyntaxError('Unexpected token');
  for (const code of ENGINE_ERROR_CODES) {
    assert.match(code, /^[a-z]+(-[a-z]+)*$/);
    const err = new EngineError(code, 'bad', { cause });
    assert.ok(err instanceof CvdError);
    assert.equal(err.name, 'EngineError');
    assert.equal(err.code, code);
    assert.equal(err.cause, cause);
    assert.equal(isRetriable(err), false, code);
  }
});
