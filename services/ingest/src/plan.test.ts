import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chunk, planAdditions, splitInitialStreams } from './plan.js';

const names = (n: number, prefix = 's'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}@aggTrade`);

describe('planAdditions', () => {
  test('no slots: chunks into new slots of at most cap', () => {
    const plan = planAdditions([], names(5), 2);
    assert.equal(plan.toExisting.size, 0);
    assert.deepEqual(plan.newSlots.map((s) => s.length), [2, 2, 1]);
  });

  test('fills existing slots with room first, in id order, before opening new ones', () => {
    const plan = planAdditions(
      [
        { id: 3, count: 1 },
        { id: 1, count: 4 },
        { id: 2, count: 2 },
      ],
      names(6),
      4,
    );
    assert.deepEqual([...plan.toExisting.keys()], [2, 3]);
    assert.deepEqual(plan.toExisting.get(2), ['s0@aggTrade', 's1@aggTrade']);
    assert.deepEqual(plan.toExisting.get(3), ['s2@aggTrade', 's3@aggTrade', 's4@aggTrade']);
    assert.deepEqual(plan.newSlots, [['s5@aggTrade']]);
  });

  test('a new stream never needs a new slot while any slot has room', () => {
    const plan = planAdditions([{ id: 0, count: 1023 }], ['x@aggTrade'], 1024);
    assert.deepEqual(plan.toExisting.get(0), ['x@aggTrade']);
    assert.equal(plan.newSlots.length, 0);
  });

  test('every stream is placed exactly once and no slot exceeds the cap', () => {
    for (let seed = 1; seed < 50; seed++) {
      const cap = 1 + (seed % 7);
      const slots = Array.from({ length: seed % 5 }, (_, id) => ({ id, count: (seed * (id + 3)) % (cap + 1) }));
      const streams = names(seed % 23);
      const plan = planAdditions(slots, streams, cap);
      const placed = [...[...plan.toExisting.values()].flat(), ...plan.newSlots.flat()];
      assert.deepEqual([...placed].sort(), [...streams].sort());
      for (const s of slots) assert.ok(s.count + (plan.toExisting.get(s.id)?.length ?? 0) <= cap);
      for (const s of plan.newSlots) assert.ok(s.length >= 1 && s.length <= cap);
    }
  });

  test('rejects a bad cap', () => {
    assert.throws(() => planAdditions([], ['a'], 0), RangeError);
  });
});

describe('chunk and splitInitialStreams', () => {
  test('chunk', () => {
    assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(chunk([], 3), []);
    assert.throws(() => chunk([1], 0), RangeError);
  });

  test('URL carries the first urlStreams streams, the rest become batched SUBSCRIBEs', () => {
    const s = splitInitialStreams(names(7), 3, 2);
    assert.deepEqual(s.url, names(3));
    assert.deepEqual(s.requests, [names(7).slice(3, 5), names(7).slice(5, 7)]);
    assert.deepEqual(splitInitialStreams(names(2), 3, 2), { url: names(2), requests: [] });
  });
});
