import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacedQueue, RatePacer } from './pacer.js';

/** A fake clock whose timers fire when time is advanced. */
function fakeClock() {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const t = { at: now + ms, fn };
      timers.push(t);
      return t;
    },
    clearTimer: (t: unknown) => {
      timers = timers.filter((x) => x !== t);
    },
    advance(ms: number) {
      const end = now + ms;
      for (let guard = 0; guard < 10_000; guard++) {
        const next = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (next === undefined) break;
        timers = timers.filter((t) => t !== next);
        now = next.at;
        next.fn();
      }
      now = end;
    },
  };
}

describe('RatePacer', () => {
  test('allows maxPerWindow messages, then asks to wait until the oldest leaves the window', () => {
    const p = new RatePacer({ maxPerWindow: 5, windowMs: 1000 });
    for (let i = 0; i < 5; i++) {
      assert.equal(p.delay(100 + i), 0);
      p.record(100 + i);
    }
    assert.equal(p.delay(200), 900);
    assert.equal(p.delay(1099), 1);
    assert.equal(p.delay(1100), 0);
    assert.equal(p.inWindow(1101), 3);
  });

  test('defaults to a window with a safety margin above one second', () => {
    assert.ok(new RatePacer({ maxPerWindow: 5 }).windowMs > 1000);
  });

  test('rejects a non-positive budget', () => {
    assert.throws(() => new RatePacer({ maxPerWindow: 0 }), RangeError);
  });
});

describe('PacedQueue', () => {
  test('never exceeds the budget in any window, however many messages are queued', () => {
    const clock = fakeClock();
    const windowMs = 1000;
    const q = new PacedQueue(new RatePacer({ maxPerWindow: 5, windowMs }), clock);
    const sentAt: number[] = [];
    for (let i = 0; i < 23; i++) q.push({ kind: 'request', send: () => sentAt.push(clock.now()) });
    assert.equal(sentAt.length, 5);
    clock.advance(10_000);
    assert.equal(sentAt.length, 23);
    for (let i = 5; i < sentAt.length; i++) assert.ok((sentAt[i] as number) - (sentAt[i - 5] as number) >= windowMs);
    assert.equal(q.pending, 0);
  });

  test('pongs jump ahead of queued requests but still count in the budget', () => {
    const clock = fakeClock();
    const q = new PacedQueue(new RatePacer({ maxPerWindow: 2, windowMs: 1000 }), clock);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) q.push({ kind: 'request', send: () => order.push(`r${i}`) });
    q.push({ kind: 'pong', send: () => order.push('pong') });
    assert.deepEqual(order, ['r0', 'r1']);
    clock.advance(1000);
    assert.deepEqual(order, ['r0', 'r1', 'pong', 'r2']);
    clock.advance(1000);
    assert.deepEqual(order, ['r0', 'r1', 'pong', 'r2', 'r3']);
  });

  test('close drops what is queued and sends nothing more', () => {
    const clock = fakeClock();
    const q = new PacedQueue(new RatePacer({ maxPerWindow: 1, windowMs: 1000 }), clock);
    let sent = 0;
    q.push({ kind: 'request', send: () => sent++ });
    q.push({ kind: 'request', send: () => sent++ });
    q.close();
    clock.advance(5000);
    q.push({ kind: 'request', send: () => sent++ });
    assert.equal(sent, 1);
  });
});
