import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventLoopWatch, readEventLoop } from './eventloop.js';
import { parsePrometheus } from './prom.js';

const scrape = (maxS: number, p99S: number): string =>
  `# HELP x\ncvd_nodejs_eventloop_lag_max_seconds ${maxS}\ncvd_nodejs_eventloop_lag_p99_seconds ${p99S}\ncvd_nodejs_eventloop_lag_min_seconds 0.01\n`;

test('readEventLoop: the max and p99 gauges in ms; absent or NaN gauges give nothing', () => {
  assert.deepEqual(readEventLoop(parsePrometheus(scrape(0.0125, 0.0105))), { maxMs: 12.5, p99Ms: 10.5 });
  assert.equal(readEventLoop(parsePrometheus('cvd_nodejs_eventloop_lag_max_seconds 0.01\n')), undefined);
  assert.equal(readEventLoop(parsePrometheus(scrape(Number.NaN, 0.01))), undefined);
});

test('EventLoopWatch: keeps the worst of every scrape after the first, per service', async () => {
  const series: Record<string, [number, number][]> = {
    // The first scrape (start-up) is discarded even though it is the largest.
    'aggregator-0': [[0.5, 0.4], [0.012, 0.0101], [0.031, 0.011], [0.011, 0.0102]],
    ingest: [[0.2, 0.2], [0.0105, 0.0101]],
  };
  const at: Record<string, number> = {};
  const watch = new EventLoopWatch(
    () => Object.keys(series),
    async (label) => {
      const i = at[label] ?? 0;
      at[label] = i + 1;
      const v = series[label]![Math.min(i, series[label]!.length - 1)]!;
      return parsePrometheus(scrape(v[0], v[1]));
    },
    1,
  );
  await watch.start();
  await new Promise((r) => setTimeout(r, 30));
  const got = await watch.stop();
  assert.equal(got.aggregator?.maxMs, 31);
  assert.equal(got.aggregator?.p99Ms, 11);
  assert.equal(got.ingest?.maxMs, 10.5);
  assert.equal(got.ingest?.p99Ms, 10.1);
  assert.ok((got.aggregator?.samples ?? 0) >= 3, `samples ${got.aggregator?.samples}`);
});
