import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pollUntil } from './poll.js';

test('pollUntil checks until the condition holds', async () => {
  let checks = 0;
  assert.equal(await pollUntil(() => ++checks === 3, { intervalMs: 1 }), true);
  assert.equal(checks, 3);
});

test('pollUntil answers false once the checks or the time run out', async () => {
  let checks = 0;
  assert.equal(await pollUntil(() => (checks++, false), { intervalMs: 1, maxChecks: 4 }), false);
  assert.equal(checks, 4);
  let timed = 0;
  assert.equal(await pollUntil(() => (timed++, false), { intervalMs: 1, timeoutMs: 0 }), false);
  assert.equal(timed, 1);
});

test('an error thrown by the check ends the poll and propagates', async () => {
  let checks = 0;
  await assert.rejects(
    pollUntil(() => {
      checks++;
      throw new Error('server exited');
    }, { intervalMs: 1, maxChecks: 10 }),
    /server exited/,
  );
  assert.equal(checks, 1);
});
