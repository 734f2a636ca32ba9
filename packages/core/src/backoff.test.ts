import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, retry, seededRandom, sleep } from './backoff.js';
import { CvdError } from './errors.js';

class NetError extends CvdError<'net' | 'bad'> {}

test('full jitter stays under an exponentially growing, capped ceiling', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1_000, random: seededRandom(7) });
  const ceilings = [100, 200, 400, 800, 1_000, 1_000, 1_000];
  for (const c of ceilings) {
    const d = b.next();
    assert.ok(d >= 0 && d < c, `${d} < ${c}`);
  }
  assert.equal(b.attempt, ceilings.length);
});

test('random = 1-ε reaches the ceiling; reset starts over', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999999 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [99, 199, 399, 799, 999]);
  b.reset();
  assert.equal(b.attempt, 0);
  assert.equal(b.next(), 99);
});

test('retryAfterMs overrides the schedule, uncapped, and still counts the attempt', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.5 });
  assert.equal(b.next({ retryAfterMs: 120_000 }), 120_000);
  assert.equal(b.attempt, 1);
  assert.equal(b.next(), 100); // 0.5 * 200
  assert.equal(b.next({ retryAfterMs: Number.NaN }), 200); // ignored when invalid
});

test('seededRandom is reproducible and in [0, 1)', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  for (let i = 0; i < 1_000; i++) {
    const x = a();
    assert.equal(x, b());
    assert.ok(x >= 0 && x < 1);
  }
  assert.notEqual(seededRandom(1)(), seededRandom(2)());
});

test('sleep resolves, and rejects with the abort reason', async () => {
  await sleep(1);
  const ac = new AbortController();
  const p = sleep(60_000, ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(p, /stop/);
  const pre = new AbortController();
  pre.abort(new Error('already'));
  await assert.rejects(sleep(10, pre.signal), /already/);
});

test('retry retries retriable errors, honours retryAfterMs, rethrows the rest', async () => {
  const delays: number[] = [];
  let calls = 0;
  const value = await retry(
    async () => {
      calls++;
      if (calls === 1) throw new NetError('net', 'blip', { retriable: true });
      if (calls === 2) throw new NetError('net', '429', { retriable: true, retryAfterMs: 3 });
      return 'ok';
    },
    { backoff: new Backoff({ initialMs: 2, random: () => 0.5 }), onRetry: ({ delayMs }) => delays.push(delayMs) },
  );
  assert.equal(value, 'ok');
  assert.deepEqual(delays, [1, 3]);

  let bad = 0;
  await assert.rejects(
    retry(async () => {
      bad++;
      throw new NetError('bad', 'no');
    }),
    (e: unknown) => e instanceof NetError && e.code === 'bad',
  );
  assert.equal(bad, 1);

  let capped = 0;
  await assert.rejects(
    retry(
      async () => {
        capped++;
        throw new NetError('net', 'down', { retriable: true });
      },
      { maxAttempts: 3, backoff: new Backoff({ initialMs: 1 }) },
    ),
  );
  assert.equal(capped, 3);
});

test('without jitter the delay is the ceiling itself; multiplier 1 makes a steady poll', () => {
  const steady = new Backoff({ initialMs: 250, multiplier: 1, jitter: false });
  assert.deepEqual([steady.next(), steady.next(), steady.next()], [250, 250, 250]);
  const growing = new Backoff({ initialMs: 100, maxMs: 300, jitter: false });
  assert.deepEqual([growing.next(), growing.next(), growing.next()], [100, 200, 300]);
});

test('retry waits with the given sleep and gives up once timeoutMs has passed', async () => {
  let clock = 0;
  const waits: number[] = [];
  const fakeSleep = async (ms: number): Promise<void> => {
    waits.push(ms);
    clock += ms;
  };
  let calls = 0;
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw new NetError('net', 'down', { retriable: true });
      },
      { backoff: new Backoff({ initialMs: 40, multiplier: 1, jitter: false }), timeoutMs: 100, sleep: fakeSleep, now: () => clock },
    ),
    (e: unknown) => e instanceof NetError && e.message === 'down',
  );
  // Fails at t = 0, 40, 80 (each before the deadline, so waited on) and 120 (after it: rethrown).
  assert.deepEqual(waits, [40, 40, 40]);
  assert.equal(calls, 4);
});

test('retry hands the signal to the sleep and rethrows its rejection', async () => {
  const ac = new AbortController();
  let seen: AbortSignal | undefined;
  await assert.rejects(
    retry(
      async () => {
        throw new NetError('net', 'down', { retriable: true });
      },
      {
        signal: ac.signal,
        sleep: async (_ms, signal) => {
          seen = signal;
          throw new Error('woken');
        },
      },
    ),
    /woken/,
  );
  assert.equal(seen, ac.signal);
});
