import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WeightLimiter } from './weight-limiter.js';

function clock(start: number): { now: () => number; sleep: (ms: number) => Promise<void>; set: (t: number) => void } {
  let t = start;
  return { now: () => t, sleep: async (ms) => void (t += ms), set: (v) => void (t = v) };
}

describe('WeightLimiter', () => {
  const MIN = 60_000;
  it('resets at the minute (after the margin) and ignores late answers from the previous minute', async () => {
    const c = clock(100 * MIN + 5_000);
    const l = new WeightLimiter(c);
    const w1 = await l.acquire('spot', 10, 100);
    l.observe('spot', 90, w1);
    assert.equal(l.usage('spot').used, 90);
    c.set(101 * MIN + 500); // inside the margin: still the old window
    assert.equal(l.usage('spot').used, 90);
    c.set(101 * MIN + 1_500);
    assert.equal(l.usage('spot').used, 0);
    l.observe('spot', 95, w1); // answer to a request of the old window
    assert.equal(l.usage('spot').used, 0);
  });

  it('lets a request heavier than the budget through alone', async () => {
    const c = clock(100 * MIN + 5_000);
    const l = new WeightLimiter(c);
    await l.acquire('p', 500, 100);
    assert.equal(l.usage('p').used, 500);
    const before = c.now();
    await l.acquire('p', 500, 100);
    assert.ok(c.now() > before);
  });

  it('block() delays acquire until the given time', async () => {
    const c = clock(100 * MIN + 5_000);
    const l = new WeightLimiter(c);
    l.block('p', c.now() + 7_000);
    assert.ok(l.usage('p').blockedUntilMs > 0);
    const start = c.now();
    await l.acquire('p', 1, 100);
    assert.equal(c.now() - start, 7_000);
  });

  it('an aborted signal stops the wait', async () => {
    const l = new WeightLimiter(clock(0));
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(l.acquire('p', 1, 10, ac.signal));
  });
});
