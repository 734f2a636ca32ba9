import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSteadyRuns } from './bench.js';
import { CliUsageError } from '../env.js';

test('--steady: SYMBOLS@RATE lists, underscores allowed; anything else is a usage error', () => {
  assert.deepEqual(parseSteadyRuns('300@1000, 2_500@1_000'), [{ symbols: 300, rate: 1000 }, { symbols: 2500, rate: 1000 }]);
  for (const bad of ['300', '300@', '@1000', '300@0', '300@1e3', '', ' , ']) {
    assert.throws(() => parseSteadyRuns(bad), CliUsageError, bad);
  }
});
