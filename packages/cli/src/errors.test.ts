import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CvdError, isRetriable } from '@cvd/core';
import { CLI_FAILURE_CODES, CliFailure } from './commands/data-args.js';
import { ADMIN_API_ERROR_CODES, AdminApiError } from './commands/symbols.js';
import { CliUsageError } from './env.js';

const KEBAB = /^[a-z]+(-[a-z]+)*$/;

test('CliUsageError is a never-retriable CvdError with code usage and its cause', () => {
  const cause = new TypeError("Unknown option '--x'");
  const err = new CliUsageError('bad flag', { cause });
  assert.ok(err instanceof CvdError);
  assert.deepEqual([err.name, err.code, err.cause, isRetriable(err)], ['CliUsageError', 'usage', cause, false]);
});

test('CliFailure: an unreachable server is retriable, a refusal is not', () => {
  for (const code of CLI_FAILURE_CODES) {
    assert.match(code, KEBAB);
    const err = new CliFailure(code, 'x', { cause: new Error('inner') });
    assert.ok(err instanceof CvdError);
    assert.equal(err.name, 'CliFailure');
    assert.equal(isRetriable(err), code === 'unreachable', code);
  }
});

test('AdminApiError: unreachable and 5xx are retriable; a bad token, no token and 4xx are not', () => {
  const retriable = new Set(['unreachable', 'server-error']);
  for (const code of ADMIN_API_ERROR_CODES) {
    assert.match(code, KEBAB);
    const err = new AdminApiError(code, 'x');
    assert.ok(err instanceof CvdError);
    assert.equal(err.name, 'AdminApiError');
    assert.equal(isRetriable(err), retriable.has(code), code);
  }
});
