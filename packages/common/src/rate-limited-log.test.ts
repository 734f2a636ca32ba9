import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from './logger.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { CaptureStream } from './capture-stream.js';

function setup(maxKeys?: number) {
  const out = new CaptureStream();
  const logger = createLogger({ service: 't', destination: out });
  let now = 1_000;
  const rl = new RateLimitedLog(logger, { intervalMs: 1_000, now: () => now, ...(maxKeys ? { maxKeys } : {}) });
  return { out, rl, advance: (ms: number) => (now += ms) };
}

test('logs a key once per interval and reports suppressed occurrences', () => {
  const { out, rl, advance } = setup();
  assert.equal(rl.warn('malformed:usdm', { frame: 1 }, 'malformed frame'), true);
  assert.equal(rl.warn('malformed:usdm', { frame: 2 }, 'malformed frame'), false);
  advance(999);
  assert.equal(rl.warn('malformed:usdm', { frame: 3 }, 'malformed frame'), false);
  assert.equal(rl.suppressedCount('malformed:usdm'), 2);
  advance(1);
  assert.equal(rl.warn('malformed:usdm', { frame: 4 }, 'malformed frame'), true);
  const lines = out.lines();
  assert.equal(lines.length, 2);
  assert.equal(lines[0]?.['suppressed'], undefined);
  assert.equal(lines[1]?.['suppressed'], 2);
  assert.equal(lines[1]?.['frame'], 4);
  assert.equal(lines[1]?.['key'], 'malformed:usdm');
  assert.equal(rl.totalSuppressed, 2);
});

test('keys are independent', () => {
  const { out, rl } = setup();
  rl.error('a', {}, 'a');
  rl.error('b', {}, 'b');
  rl.error('a', {}, 'a');
  assert.equal(out.lines().length, 2);
  assert.equal(rl.suppressedCount('a'), 1);
  assert.equal(rl.suppressedCount('b'), 0);
});

test('memory is bounded by maxKeys (oldest key forgotten)', () => {
  const { rl } = setup(2);
  rl.info('a', {}, 'm');
  rl.info('b', {}, 'm');
  rl.info('c', {}, 'm');
  // 'a' was evicted, so it logs again immediately.
  assert.equal(rl.info('a', {}, 'm'), true);
  assert.equal(rl.info('c', {}, 'm'), false);
});
