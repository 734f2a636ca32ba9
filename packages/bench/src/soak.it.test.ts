/**
 * The soak at its CI size: the whole pipeline for 10 minutes (CI=true; `CVD_SOAK_DURATION`
 * overrides, 6 minutes otherwise) at 1,000 aggTrades/s over 300 symbols, ingest rotating its
 * connections every 3 minutes and random disconnects every ~90 s; then the bar table must equal
 * the ground truth and no service's RSS may have grown past its bound after the warm-up.
 * The documented long run is `cvd soak --duration 2h` (docs/BENCHMARKS.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getTestStack } from '@cvd/test-kit';
import { renderSoak, runSoak } from './soak.js';
import { parseDuration } from './soak-verdict.js';

const durationMs = parseDuration(process.env.CVD_SOAK_DURATION ?? (process.env.CI === 'true' ? '10m' : '6m'));

test(`soak: ${durationMs / 60_000} min of the whole pipeline with rotations and random disconnects — exact bars, bounded RSS`, { timeout: durationMs + 10 * 60_000 }, async () => {
  const stack = await getTestStack();
  const result = await runSoak({ stack, durationMs, say: (l) => console.log(l) });
  console.log(renderSoak(result));
  assert.deepEqual(result.failures, []);
  assert.ok(result.bars.expected >= 300 * Math.floor(durationMs / 60_000), `bars for every symbol and minute (${result.bars.expected})`);
  assert.equal(result.bars.actual, result.bars.expected);
  assert.equal(result.bars.differing, 0);
  assert.ok(result.trades >= 0.8 * 1000 * (durationMs / 1000), `about 1,000 trades/s (${result.trades} in ${result.seconds} s)`);
  assert.ok(result.disconnects.injected > 0 && result.ingest.rotations > 0, 'disconnects and rotations happened');
  assert.deepEqual(Object.keys(result.rss).filter((l) => !['kafka', 'questdb'].includes(l)).sort(), ['aggregator-0', 'config', 'ingest', 'web']);
  for (const [label, v] of Object.entries(result.rss)) assert.ok(v.ok || ['kafka', 'questdb'].includes(label), `${label} RSS ${v.peakMb} MB ≤ ${v.limitMb} MB`);
  assert.deepEqual(result.exited, []);
});
