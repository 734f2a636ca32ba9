import assert from 'node:assert/strict';
import { test } from 'node:test';
import { histogramQuantile, peakRate, percentiles, quantileSorted, sumBuckets } from './stats.js';

test('nearest-rank quantiles of raw samples', () => {
  const v = Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1..1000 shuffled order
  const p = percentiles(v);
  assert.equal(p.count, 1000);
  assert.equal(p.p50, 500);
  assert.equal(p.p99, 990);
  assert.equal(p.p999, 999);
  assert.equal(p.max, 1000);
  assert.equal(p.mean, 500.5);
  assert.ok(Number.isNaN(percentiles([]).p50));
  assert.equal(quantileSorted([7], 0.999), 7);
});

test('histogram quantile interpolates inside the bucket (like histogram_quantile)', () => {
  const b = [
    { le: 0.01, count: 50 },
    { le: 0.02, count: 90 },
    { le: 0.05, count: 100 },
    { le: Infinity, count: 100 },
  ];
  assert.equal(histogramQuantile(b, 0.5), 0.01);
  assert.ok(Math.abs(histogramQuantile(b, 0.7) - 0.015) < 1e-12);
  assert.ok(Math.abs(histogramQuantile(b, 0.99) - 0.047) < 1e-12);
  assert.ok(Number.isNaN(histogramQuantile([{ le: Infinity, count: 0 }], 0.5)));
  // Everything above the last finite bound reports that bound.
  assert.equal(histogramQuantile([{ le: 1, count: 0 }, { le: Infinity, count: 5 }], 0.99), 1);
});

test('histograms of several replicas add bucket by bucket', () => {
  const s = sumBuckets([
    [{ le: 1, count: 1 }, { le: Infinity, count: 2 }],
    [{ le: 1, count: 3 }, { le: Infinity, count: 3 }],
  ]);
  assert.deepEqual(s, [{ le: 1, count: 4 }, { le: Infinity, count: 5 }]);
});

test('peak rate over a window of a cumulative counter', () => {
  const samples = [0, 1000, 2000, 3000, 4000].map((atMs, i) => ({ atMs, value: [0, 100, 1100, 2100, 2200][i]! }));
  assert.equal(peakRate(samples, 2000), 1000);
  assert.equal(peakRate(samples, 10_000), 0);
});
