import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { classifyId, emptySequence, enforceHoleCap, recordId, settleExpired } from './sequence.js';

describe('agg-id sequence', () => {
  it('holes and per-owner missing counts match the gaps of the sorted id set, for any order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 200 })),
        (ids, extra) => {
          // owner "minute" of an id = the id itself, so ownership is easy to check
          const seq = emptySequence();
          const missing = new Map<number, number>();
          for (const id of [...ids, ...extra]) {
            if (classifyId(seq, id) !== 'new') continue; // a repeat: `ids` is unique, so only via `extra`
            for (const adj of recordId(seq, id, id)) missing.set(adj.owner, (missing.get(adj.owner) ?? 0) + adj.delta);
          }
          const sorted = [...new Set([...ids, ...extra])].sort((a, b) => a - b);
          const expectedHoles: Array<[number, number, number]> = [];
          const expectedMissing = new Map<number, number>();
          for (let i = 1; i < sorted.length; i++) {
            const gap = sorted[i]! - sorted[i - 1]! - 1;
            if (gap > 0) {
              expectedHoles.push([sorted[i - 1]! + 1, sorted[i]! - 1, sorted[i]!]);
              expectedMissing.set(sorted[i]!, gap);
            }
          }
          assert.deepEqual(
            seq.holes.map((h) => [h.lo, h.hi, h.owner]),
            expectedHoles,
          );
          for (const [owner, count] of missing) assert.equal(count, expectedMissing.get(owner) ?? 0, `owner ${owner}`);
          for (const id of sorted) assert.equal(classifyId(seq, id), 'seen');
          assert.equal(seq.minId, sorted[0]);
          assert.equal(seq.maxId, sorted[sorted.length - 1]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('settles holes of expired owners and beyond the cap', () => {
    const seq = emptySequence();
    for (const id of [1, 3, 6, 10]) recordId(seq, id, id * 100);
    assert.deepEqual(
      seq.holes.map((h) => [h.lo, h.hi]),
      [
        [2, 2],
        [4, 5],
        [7, 9],
      ],
    );
    settleExpired(seq, 300); // the owner of hole 2 is id 3 (minute 300)
    assert.equal(seq.settledId, 2);
    assert.equal(classifyId(seq, 2), 'settled');
    assert.equal(classifyId(seq, 1), 'settled', 'below settledId we no longer know');
    assert.equal(classifyId(seq, 4), 'new');
    assert.equal(classifyId(seq, 6), 'seen');
    assert.equal(enforceHoleCap(seq, 1), 1);
    assert.equal(seq.settledId, 5);
    assert.equal(classifyId(seq, 4), 'settled');
    assert.equal(classifyId(seq, 8), 'new');
  });
});
