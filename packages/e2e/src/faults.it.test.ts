/**
 * Fault-injection suite (issue 5): the same seeded synthetic market (30 symbols, spot and
 * USD-M, 20 minutes of trade time at a speed factor) through the real pipeline — simulator,
 * config, ingest, Kafka, aggregator, QuestDB, every one a separate process — while things
 * break. Every scenario must end with a bar table identical, every column of every bar (but
 * `updated_at`, the write time, and `recovered`, which says how a trade arrived), to the
 * clean run's; the two that cannot must say so honestly.
 *
 * Runs on its own throw-away Kafka and QuestDB, since it restarts and stops them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startThrowawayStack, type OwnedTestStack } from '@cvd/test-kit';
import type { Fault, SimulatorOptions } from '@cvd/simulator';
import { Pipeline, type PipelineOptions } from './pipeline.js';
import { MINUTE } from './expected.js';

const START = Date.UTC(2024, 6, 1, 0, 0);
const MINUTES = 20;
const SPEED = 30; // 20 minutes of trade time in 40 s
let stack: OwnedTestStack;
const open: Pipeline[] = [];

before(async () => {
  stack = await startThrowawayStack();
});
after(async () => {
  for (const p of open) await p.stop().catch(() => undefined);
  await stack?.stop();
});

function market(faults: Fault[] = [], extra: Partial<SimulatorOptions> = {}): Omit<SimulatorOptions, 'start'> {
  return {
    // One extra minute of trading after the compared window, as on a live exchange.
    sources: [{ kind: 'synthetic', seed: 5150, startTime: START, counts: { spot: 15, usdm: 15 }, durationMs: (MINUTES + 1) * MINUTE }],
    pace: { mode: 'speed', factor: SPEED },
    faults,
    ...extra,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Wall time after the feed started at which `tradeMinutes` of trade time have been published. */
const at = (tradeMinutes: number): number => (tradeMinutes * MINUTE) / SPEED;

interface Outcome {
  pipeline: Pipeline;
  actual: Record<string, unknown>[];
  expected: Record<string, unknown>[];
}

async function scenario(
  options: Partial<Omit<PipelineOptions, 'stack'>> & { faults?: Fault[]; simExtra?: Partial<SimulatorOptions> },
  during?: (p: Pipeline, started: number) => Promise<void>,
): Promise<Outcome> {
  const pipeline = await Pipeline.start({ stack, sim: market(options.faults, options.simExtra), ...options });
  open.push(pipeline);
  const started = Date.now();
  if (during) await during(pipeline, started);
  // Reconnects backfill every symbol within Binance's REST weight budget; the websocket-fault
  // scenario can need several minutes of budget windows to close every hole.
  const { actual, expected } = await pipeline.settle({ beforeMs: START + MINUTES * MINUTE, timeoutMs: 600_000 });
  return { pipeline, actual, expected };
}

async function finish(o: Outcome): Promise<void> {
  await o.pipeline.stop();
  open.splice(open.indexOf(o.pipeline), 1);
}

async function until(started: number, ms: number): Promise<void> {
  const wait = started + ms - Date.now();
  if (wait > 0) await sleep(wait);
}

describe('fault-injection suite', { concurrency: false }, () => {
  let clean: Record<string, unknown>[] = [];

  test('clean run (the reference)', async () => {
    const o = await scenario({});
    assert.ok(o.expected.length >= 30 * MINUTES, `${o.expected.length} bars`);
    assert.deepEqual(o.actual, o.expected, 'bars equal the ground truth');
    clean = o.actual;
    await finish(o);
  });

  test('SIGKILL one of 3 aggregator replicas at random moments, three times', async () => {
    const o = await scenario({ aggregators: 3 }, async (p, started) => {
      for (const [i, when] of [at(3), at(8), at(13)].entries()) {
        await until(started, when + Math.random() * at(2));
        const victim = `aggregator-${i % 3}`;
        await p.proc(victim).kill('SIGKILL');
        await sleep(500);
        p.startService('aggregator', i % 3);
      }
    });
    assert.deepEqual(o.actual, clean);
    await finish(o);
  });

  test('SIGKILL ingest, restart it 20 s later: the hole is filled from REST', async () => {
    const o = await scenario({}, async (p, started) => {
      await until(started, at(4));
      await p.proc('ingest').kill('SIGKILL');
      await sleep(20_000);
      p.startService('ingest');
    });
    assert.deepEqual(o.actual, clean);
    const recovered = o.actual.length ? await o.pipeline.sql.rows(`SELECT sum(recovered) r FROM ${o.pipeline.names.table}`) : [];
    assert.ok(Number(recovered[0]?.r) > 1000, `trades recovered over REST: ${String(recovered[0]?.r)}`);
    await finish(o);
  });

  test('restart the Kafka broker mid-stream', async () => {
    const o = await scenario({}, async (_p, started) => {
      await until(started, at(6));
      await stack.stopComponent('kafka');
      await sleep(3000);
      await stack.startComponent('kafka');
    });
    assert.deepEqual(o.actual, clean);
    await finish(o);
  });

  test('stop QuestDB for 30 s: the aggregator waits and retries, never commits what QuestDB did not take', async () => {
    const o = await scenario({}, async (p, started) => {
      await until(started, at(5));
      await stack.stopComponent('questdb');
      await sleep(30_000);
      assert.ok(p.proc('aggregator-0').running, 'the aggregator did not crash while QuestDB was down');
      await stack.startComponent('questdb');
    });
    assert.deepEqual(o.actual, clean);
    await finish(o);
  });

  test('simulator faults: disconnects, skipped ids, duplicates, reordering, malformed frames, silence, 2-minute connection lifetime', async () => {
    const faults: Fault[] = [
      { kind: 'disconnect-every', frames: 5000 },
      { kind: 'skip', every: 1500 },
      { kind: 'duplicate', probability: 0.005 },
      { kind: 'reorder', window: 4, count: 300 },
      { kind: 'malformed', variant: 'invalid-json', every: 7000 },
      { kind: 'malformed', variant: 'non-decimal-quantity', every: 11_000 },
    ];
    // Slower, so the 2-minute forced lifetime (wall time) passes during the run.
    const o = await scenario(
      {
        faults,
        simExtra: {
          pace: { mode: 'speed', factor: 10 },
          markets: { spot: { connectionLifetimeMs: 2 * MINUTE }, usdm: { connectionLifetimeMs: 2 * MINUTE } },
        },
        env: { ingest: { INGEST_CONNECTION_LIFETIME: '100s', INGEST_SILENCE_TIMEOUT: '5s' } },
      },
      async (p) => {
        await sleep(20_000);
        p.sim.inject({ kind: 'silence', market: 'usdm' });
      },
    );
    assert.deepEqual(o.actual, clean);
    const closes = o.pipeline.sim.stats().closes;
    assert.ok(!Object.keys(closes).some((k) => /lifetime/.test(k)), `no connection reached the forced lifetime: ${JSON.stringify(closes)}`);
    await finish(o);
  });

  test('a hole REST cannot fill: bars carry missing_agg_ids and metrics count it (differs from the clean run, honestly)', async () => {
    const o = await scenario({
      fixedOpsPorts: true,
      faults: [
        { kind: 'skip', market: 'usdm', ids: [1500, 1501, 1502, 1503, 1504] },
        { kind: 'rest-refuse', market: 'usdm', fromId: 1500, toId: 1504 },
      ],
    });
    assert.deepEqual(o.actual, o.expected, 'bars equal the ground truth minus the unrecoverable ids');
    const withMissing = o.actual.filter((r) => Number(r.missing_agg_ids) > 0);
    const usdmSymbols = new Set(o.pipeline.servedSymbols.filter((s) => s.market === 'usdm').map((s) => s.symbol));
    assert.equal(withMissing.length, usdmSymbols.size, 'one bar per USD-M symbol holds the hole');
    assert.ok(withMissing.every((r) => r.market === 'usdm' && r.missing_agg_ids === 5));
    assert.notDeepEqual(o.actual, clean);
    const ingestMetrics = await o.pipeline.metrics('ingest');
    const unrecoverable = [...ingestMetrics.matchAll(/^cvd_ingest_unrecoverable_total\{[^}]*market="usdm"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(unrecoverable, 5 * usdmSymbols.size, 'ingest counts the ids REST refused');
    const aggMetrics = await o.pipeline.metrics('aggregator-0');
    assert.match(aggMetrics, new RegExp(`^cvd_aggregator_missing_agg_ids\\{[^}]*market="usdm"[^}]*\\} ${5 * usdmSymbols.size}$`, 'm'));
    await finish(o);
  });

  test('SIGKILL everything at once, then restart: the table converges to the clean run', async () => {
    const o = await scenario({}, async (p, started) => {
      await until(started, at(7));
      await Promise.all(['ingest', 'config', 'aggregator-0'].map((l) => p.proc(l).kill('SIGKILL')));
      await sleep(5000);
      p.startService('config');
      p.startService('aggregator', 0);
      p.startService('ingest');
    });
    assert.deepEqual(o.actual, clean);
    await finish(o);
  });
});
