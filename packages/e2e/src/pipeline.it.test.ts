/**
 * End to end, every service a real process: Binance simulator → config → ingest → Kafka →
 * aggregator → QuestDB. The bars must equal the simulator's ground truth, value for value,
 * with and without websocket faults; symbols change live through the admin API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, getTestStack, type TestStackEndpoints } from '@cvd/test-kit';
import type { SimulatorOptions } from '@cvd/simulator';
import { Pipeline } from './pipeline.js';
import { MINUTE } from './expected.js';

const START = Date.UTC(2024, 4, 1, 0, 0);
let stack: TestStackEndpoints;
const pipelines: Pipeline[] = [];

before(async () => {
  stack = await getTestStack();
});
after(async () => {
  for (const p of pipelines) await p.stop().catch(() => undefined);
});

// Trading goes on for a minute past the compared window, as on a live exchange: a trade lost
// at the very end of a stream is only noticed when the symbol trades again.
const COMPARED_MINUTES = 4;

function market50(extra: Partial<SimulatorOptions> = {}): Omit<SimulatorOptions, 'start'> {
  return {
    pace: { mode: 'speed', factor: 30 },
    sources: [{ kind: 'synthetic', seed: 2024, startTime: START, counts: { spot: 25, usdm: 25 }, durationMs: (COMPARED_MINUTES + 1) * MINUTE }],
    ...extra,
  };
}

async function run(sim: Omit<SimulatorOptions, 'start'>): Promise<{ pipeline: Pipeline; actual: Record<string, unknown>[]; expected: Record<string, unknown>[] }> {
  const pipeline = await Pipeline.start({ stack, sim });
  pipelines.push(pipeline);
  // Every reconnect backfills each symbol over REST within Binance's weight budget (2,400 per
  // minute shared by the futures markets), so a run with many disconnects can take minutes.
  const { actual, expected } = await pipeline.settle({ beforeMs: START + COMPARED_MINUTES * MINUTE, timeoutMs: 300_000 });
  return { pipeline, actual, expected };
}

describe('pipeline end to end', () => {
  let clean: Record<string, unknown>[] = [];

  test('50 synthetic symbols (spot + USD-M): the bars equal the ground truth', async () => {
    const { pipeline, actual, expected } = await run(market50());
    assert.ok(expected.length >= 200, `${expected.length} bars`);
    assert.ok(pipeline.sim.groundTruth().published > 10_000, `${pipeline.sim.groundTruth().published} trades`);
    assert.deepEqual(actual, expected);
    assert.ok(actual.every((r) => r.missing_agg_ids === 0));
    // A clean start on fresh topics (three services creating them at once, partitions electing
    // leaders, the consumer group forming) prints no error line: the start-up races are debug.
    const errors = [...pipeline.procs.entries()].flatMap(([label, p]) => p.errorLines.map((l) => `${label}: ${l}`));
    assert.deepEqual(errors, []);
    clean = actual;
    await pipeline.stop();
  });

  test('with disconnects, skipped ids, duplicates and reordering: the same bars', async () => {
    const { pipeline, actual, expected } = await run(
      market50({
        faults: [
          { kind: 'disconnect-every', frames: 4000 },
          { kind: 'skip', every: 900 },
          { kind: 'duplicate', probability: 0.01 },
          { kind: 'reorder', window: 4, count: 200 },
        ],
      }),
    );
    const truth = pipeline.sim.groundTruth();
    const skipped = truth.symbols().reduce((n, s) => n + truth.skippedOnWs(s.market, s.symbol).length, 0);
    assert.ok(skipped > 10, `the skip fault withheld ${skipped} trades`);
    assert.deepEqual(actual, expected);
    assert.deepEqual(actual, clean, 'identical to the clean run');
    const recovered = await pipeline.sql.rows(`SELECT sum(recovered) r FROM ${pipeline.names.table}`);
    assert.ok(Number(recovered[0]?.r) >= skipped, `backfilled trades are marked recovered (${String(recovered[0]?.r)} >= ${skipped})`);
    await pipeline.stop();
  });

  test('symbols added and removed through the admin API without reopening connections; bad edits change nothing', async () => {
    const sim: Omit<SimulatorOptions, 'start'> = {
      pace: { mode: 'speed', factor: 5 },
      sources: [{ kind: 'synthetic', seed: 7, startTime: START, counts: { spot: 3, usdm: 3 }, durationMs: 30 * MINUTE }],
    };
    const pipeline = await Pipeline.start({ stack, sim });
    pipelines.push(pipeline);
    const late = pipeline.servedSymbols.filter((s) => s.market === 'usdm').at(-1)!;
    const listed = await pipeline.admin('GET', '/symbols');
    assert.equal(listed.status, 200);

    // Remove it first (it was in the file), then add it back, watching connection counts.
    const connsBefore = connections(pipeline);
    const del = await pipeline.admin('DELETE', `/symbols/${late.market}/${encodeURIComponent(late.symbol)}`);
    assert.ok(del.status >= 200 && del.status < 300, `DELETE → ${del.status} ${JSON.stringify(del.body)}`);
    // Trades applied before the DELETE still reach QuestDB (forming bars are written every few
    // seconds, later under load): take the last id once it has stopped moving, then check it stays.
    const stoppedAt = await settledLastAggId(pipeline, late.symbol);
    await sleep(4000);
    assert.equal(await lastAggId(pipeline, late.symbol), stoppedAt, 'no trades of a removed symbol are aggregated');
    assert.ok(pipeline.sim.groundTruth().trades(late.market, late.symbol).at(-1)!.a > (stoppedAt ?? 0), 'while the exchange kept trading it');

    const add = await pipeline.admin('POST', '/symbols', { market: late.market, symbol: late.symbol });
    assert.ok(add.status >= 200 && add.status < 300, `POST → ${add.status} ${JSON.stringify(add.body)}`);
    await eventually(async () => ((await lastAggId(pipeline, late.symbol)) ?? 0) > (stoppedAt ?? 0), 30_000, 500);
    assert.equal(connections(pipeline), connsBefore, 'no websocket connection was opened for the add/remove');

    // An invalid API request: a clear 400 and nothing changes.
    const bad = await pipeline.admin('POST', '/symbols', { market: 'usdm', symbol: "BTC'; DROP TABLE x;--" });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /symbol/i);
    const wrongToken = await pipeline.admin('GET', '/symbols', undefined, 'not-the-token-at-all');
    assert.equal(wrongToken.status, 401);

    // An invalid file edit: the previous set stays in effect.
    const before = (await pipeline.admin('GET', '/symbols')).body as { symbols: unknown[] };
    pipeline.writeSymbolFile([], 'spot: [this is: not valid yaml\n');
    await sleep(1500);
    const afterBad = (await pipeline.admin('GET', '/symbols')).body as { symbols: unknown[]; file: { valid: boolean; errors: string[] } };
    assert.deepEqual(afterBad.symbols, before.symbols, 'the previous set stays in effect');
    assert.equal(afterBad.file.valid, false);
    assert.match(afterBad.file.errors[0] ?? '', /symbols\.yaml:\d+:\d+: YAML/);
    await pipeline.stop();
  });
});

function connections(p: Pipeline): number {
  return p.sim.stats().connectionsOpened;
}

async function lastAggId(p: Pipeline, symbol: string): Promise<number | undefined> {
  const r = await p.sql.rows(`SELECT max(last_agg_id) m FROM ${p.names.table} WHERE market = 'usdm' AND symbol = '${symbol}'`).catch(() => []);
  const v = r[0]?.m;
  return typeof v === 'number' ? v : undefined;
}

/** The symbol's last aggregated id once it has not changed for `quietMs` (bounded: a removed symbol must go quiet). */
async function settledLastAggId(p: Pipeline, symbol: string, quietMs = 6000, timeoutMs = 60_000): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = await lastAggId(p, symbol);
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`${symbol}'s last aggregated id kept moving for ${timeoutMs} ms after it was removed (now ${String(last)})`);
    await sleep(500);
    const now = await lastAggId(p, symbol);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
