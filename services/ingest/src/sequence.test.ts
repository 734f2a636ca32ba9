import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SymbolSequence } from './sequence.js';

const seq = (maxHoleIds = 1_000_000) => new SymbolSequence({ backfillDelayMs: 1000, maxHoleIds });

describe('SymbolSequence', () => {
  test('first, next, duplicate', () => {
    const s = seq();
    assert.equal(s.observe(10, 0).kind, 'first');
    assert.equal(s.observe(11, 0).kind, 'next');
    assert.equal(s.observe(11, 0).kind, 'duplicate');
    assert.equal(s.observe(10, 0).kind, 'duplicate');
    assert.equal(s.last, 11);
    assert.equal(s.missing, 0);
  });

  test('fresh start: a frame reordered ahead of the first one seen is published, not dropped', () => {
    const s = seq();
    assert.equal(s.observe(10, 0).kind, 'first');
    assert.equal(s.observe(9, 0).kind, 'filled', 'the real first trade arrived second');
    assert.deepEqual(s.observe(5, 0), { kind: 'gap', hole: { lo: 6, hi: 8 }, tooLarge: false });
    assert.equal(s.missing, 3);
    assert.equal(s.observe(7, 0).kind, 'filled');
    assert.equal(s.observe(5, 0).kind, 'duplicate');
    assert.equal(s.last, 10);
  });

  test('after a seed, ids at or below it were published by the previous run', () => {
    const s = seq();
    s.seed(100);
    assert.equal(s.observe(101, 0).kind, 'next');
    assert.equal(s.observe(99, 0).kind, 'duplicate');
  });

  test('a jump opens a hole that becomes due only after the backfill delay', () => {
    const s = seq();
    s.observe(10, 0);
    const o = s.observe(15, 100);
    assert.deepEqual(o, { kind: 'gap', hole: { lo: 11, hi: 14 }, tooLarge: false });
    assert.equal(s.missing, 4);
    assert.deepEqual(s.takeDue(1099), []);
    assert.equal(s.nextDueAt(), 1100);
    assert.deepEqual(s.takeDue(1100), [{ lo: 11, hi: 14 }]);
    assert.deepEqual(s.takeDue(5000), [], 'in flight: not handed out twice');
    assert.equal(s.nextDueAt(), undefined);
  });

  test('reordered frames fill the hole before it is due: nothing to fetch', () => {
    const s = seq();
    s.observe(1, 0);
    assert.equal(s.observe(3, 0).kind, 'gap');
    assert.equal(s.observe(2, 10).kind, 'filled');
    assert.equal(s.observe(2, 20).kind, 'duplicate');
    assert.equal(s.missing, 0);
    assert.deepEqual(s.takeDue(10_000), []);
  });

  test('late ids split holes; only what is still missing is fetched', () => {
    const s = seq();
    s.observe(100, 0);
    s.observe(110, 0); // hole 101..109
    assert.equal(s.observe(105, 1).kind, 'filled');
    assert.equal(s.observe(101, 1).kind, 'filled');
    assert.equal(s.observe(109, 1).kind, 'filled');
    assert.deepEqual(s.holes, [
      { lo: 102, hi: 104 },
      { lo: 106, hi: 108 },
    ]);
    assert.deepEqual(s.takeDue(1000), [
      { lo: 102, hi: 104 },
      { lo: 106, hi: 108 },
    ]);
  });

  test('backfill results are taken once; ids REST did not return are abandoned and counted', () => {
    const s = seq();
    s.observe(1, 0);
    s.observe(10, 0); // 2..9
    const [range] = s.takeDue(1000);
    assert.ok(range);
    // A websocket straggler arrives while the fetch is in flight.
    assert.equal(s.observe(4, 1001).kind, 'filled');
    const publish = [2, 3, 4, 5, 6, 7].filter((id) => s.take(id));
    assert.deepEqual(publish, [2, 3, 5, 6, 7], '4 came over the websocket already');
    assert.equal(s.settle(range, { kind: 'abandon' }), 2, '8 and 9 were not served');
    assert.equal(s.missing, 0);
    assert.equal(s.observe(8, 2000).kind, 'duplicate', 'abandoned ids are not reopened');
  });

  test('failed fetches are retried up to maxAttempts, then abandoned', () => {
    const s = seq();
    s.observe(1, 0);
    s.observe(5, 0);
    let [r] = s.takeDue(1000);
    assert.equal(s.settle(r!, { kind: 'retry', retryAt: 3000, maxAttempts: 2 }), 0);
    assert.deepEqual(s.takeDue(2999), []);
    [r] = s.takeDue(3000);
    assert.deepEqual(r, { lo: 2, hi: 4 });
    assert.equal(s.settle(r!, { kind: 'retry', retryAt: 5000, maxAttempts: 2 }), 3);
    assert.equal(s.missing, 0);
  });

  test('settle leaves holes outside the fetched range alone', () => {
    const s = seq();
    s.observe(1, 0);
    s.observe(3, 0); // {2}
    const [r] = s.takeDue(1000);
    s.observe(6, 1500); // {4,5}, not in flight
    assert.equal(s.settle(r!, { kind: 'abandon' }), 1);
    assert.deepEqual(s.holes, [{ lo: 4, hi: 5 }]);
  });

  test('holes above maxHoleIds are reported but not tracked', () => {
    const s = seq(10);
    s.observe(1, 0);
    const o = s.observe(100, 0);
    assert.deepEqual(o, { kind: 'gap', hole: { lo: 2, hi: 99 }, tooLarge: true });
    assert.equal(s.missing, 0);
    assert.equal(s.observe(50, 0).kind, 'duplicate');
  });

  test('a seed from the previous run turns the first frame into a hole to backfill', () => {
    const s = seq();
    s.seed(100);
    assert.deepEqual(s.observe(110, 0), { kind: 'gap', hole: { lo: 101, hi: 109 }, tooLarge: false });
    s.seed(5);
    assert.equal(s.last, 110, 'a seed never overrides live tracking');
  });

  test('reset forgets the symbol and bumps the generation', () => {
    const s = seq();
    s.observe(1, 0);
    s.observe(9, 0);
    const g = s.generation;
    s.reset();
    assert.equal(s.generation, g + 1);
    assert.equal(s.missing, 0);
    assert.equal(s.observe(500, 0).kind, 'first');
  });

  test('random interleavings: every id is published exactly once (ws + backfill)', () => {
    let rnd = 7;
    const next = (n: number): number => {
      rnd = (rnd * 1103515245 + 12345) % 2147483648;
      return rnd % n;
    };
    for (let round = 0; round < 200; round++) {
      const s = seq();
      const ids = Array.from({ length: 60 }, (_, i) => 1000 + i);
      // Websocket delivery: shuffle locally, drop some, duplicate some.
      const ws: number[] = [];
      for (const id of ids) {
        if (next(10) === 0) continue;
        ws.push(id);
        if (next(10) === 0) ws.push(id);
      }
      for (let i = 0; i < ws.length - 1; i++) if (next(4) === 0) [ws[i], ws[i + 1]] = [ws[i + 1]!, ws[i]!];
      const published: number[] = [];
      let now = 0;
      for (const id of ws) {
        const o = s.observe(id, now++);
        if (o.kind !== 'duplicate') published.push(id);
        if (next(8) === 0) {
          for (const r of s.takeDue(now + 2000)) {
            for (let a = r.lo; a <= r.hi; a++) if (s.take(a)) published.push(a);
            s.settle(r, { kind: 'abandon' });
          }
        }
      }
      for (const r of s.takeDue(Number.MAX_SAFE_INTEGER)) {
        for (let a = r.lo; a <= r.hi; a++) if (s.take(a)) published.push(a);
        s.settle(r, { kind: 'abandon' });
      }
      const first = ws[0]!;
      const expected = ids.filter((a) => a >= Math.min(...ws.slice(0, 1)) && a <= Math.max(...ws));
      assert.equal(new Set(published).size, published.length, `round ${round}: duplicates published`);
      // Everything from the first id seen up to the highest is published (ids below the first
      // frame are unknown to a fresh tracker).
      const got = new Set(published);
      for (const a of expected) if (a >= first) assert.ok(got.has(a), `round ${round}: ${a} missing`);
    }
  });
});
