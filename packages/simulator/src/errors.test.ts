import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CvdError, isRetriable } from '@cvd/core';
import { SIMULATOR_ERROR_CODES, SimulatorError } from './errors.js';

test('SimulatorError is a CvdError with kebab-case codes and a retriable flag fixed by its code', () => {
  const retriable = new Set(['listen-failed', 'no-subscriber']);
  const cause = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
  for (const code of SIMULATOR_ERROR_CODES) {
    assert.match(code, /^[a-z]+(-[a-z]+)*$/);
    const err = new SimulatorError(code, 'x', { cause });
    assert.ok(err instanceof CvdError);
    assert.equal(err.name, 'SimulatorError');
    assert.equal(err.cause, cause);
    assert.equal(isRetriable(err), retriable.has(code), code);
  }
});
