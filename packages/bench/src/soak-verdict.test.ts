import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, rssVerdict, soakSizes, MINUTE_MS } from './soak-verdict.js';

const MB = 1024 * 1024;
const series = (fromMs: number, toMs: number, everyMs: number, mb: (t: number) => number): { atMs: number; rssBytes: number }[] => {
  const out = [];
  for (let t = fromMs; t <= toMs; t += everyMs) out.push({ atMs: t, rssBytes: Math.round(mb(t) * MB) });
  return out;
};

test('soakSizes: CI size shortens the horizon, a 2-hour run keeps the default; warm-up rule and its bound', () => {
  assert.deepEqual(soakSizes(10 * MINUTE_MS), { durationMs: 600_000, horizonMs: 120_000, warmupMs: 300_000 });
  assert.deepEqual(soakSizes(120 * MINUTE_MS), { durationMs: 7_200_000, horizonMs: 600_000, warmupMs: 900_000 });
  assert.deepEqual(soakSizes(6 * MINUTE_MS), { durationMs: 360_000, horizonMs: 120_000, warmupMs: 300_000 });
  assert.equal(soakSizes(10 * MINUTE_MS, { warmupMs: 60_000 }).warmupMs, 60_000);
  assert.throws(() => soakSizes(5 * MINUTE_MS), /warm-up \(300 s\) must be shorter than the run \(300 s\)/);
});

test('rssVerdict: a plateau passes, a leak past the bound fails, the slope shows the leak', () => {
  const start = 0;
  const warm = 3 * MINUTE_MS;
  const end = 10 * MINUTE_MS;
  // Fills up during the warm-up, then flat with GC noise.
  const flat = series(start, end, 10_000, (t) => (t < warm ? 80 + (t / warm) * 100 : 180 + ((t / 10_000) % 3) * 5));
  const v = rssVerdict(flat, start, warm);
  assert.equal(v.baseMb, 174.4);
  assert.equal(v.peakMb, 190);
  assert.equal(v.limitMb, 250.1);
  assert.ok(v.ok);
  assert.ok(Math.abs(v.slopeMbPerHour) < 10, `flat slope ${v.slopeMbPerHour}`);
  // +20 MB per minute after the warm-up: 140 MB more by the end, over 250.1.
  const leak = series(start, end, 10_000, (t) => (t < warm ? 80 + (t / warm) * 100 : 180 + ((t - warm) / MINUTE_MS) * 20));
  const l = rssVerdict(leak, start, warm);
  assert.equal(l.peakMb, 320);
  assert.equal(l.ok, false);
  assert.equal(l.slopeMbPerHour, 1200);
  // A custom bound.
  assert.equal(rssVerdict(leak, start, warm, { pct: 100, mb: 0 }).ok, true);
});

test('rssVerdict refuses to judge without samples on both sides of the warm-up end', () => {
  assert.throws(() => rssVerdict(series(0, 110_000, 10_000, () => 100), 0, 120_000), /needs samples .* \(got 4 and 0\)/);
  assert.throws(() => rssVerdict([], 0, 120_000), /got 0 and 0/);
});

test('parseDuration', () => {
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('1500ms'), 1500);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.throws(() => parseDuration('10'), /expected a duration like 90s, 10m or 2h, got "10"/);
  assert.throws(() => parseDuration('0s'), /must be > 0/);
});
