/**
 * `cvd soak`: the whole pipeline (config, ingest, aggregator, web with one live chart, Kafka,
 * QuestDB) for a set time at a realistic rate, with ingest rotating its connections every few
 * minutes and the "exchange" dropping connections at random moments (some without a close
 * frame). At the end the bar table must equal the ground truth, bar for bar and column for
 * column, and no service's RSS may have grown past its bound after the warm-up.
 *
 * The expected bars are computed while the run goes ({@link IncrementalExpected}), so a
 * 2-hour run does not need every trade's engine state at the end.
 */
import { asTableRow, COMPARED, IncrementalExpected, simTradeToAggTrade } from '@cvd/e2e';
import { MARKETS, type Market } from '@cvd/core';
import { Prng } from '@cvd/simulator';
import { BURST_RATE_FACTOR, fmt, MINUTE, specs } from './phases.js';
import { loadAverage } from './proc.js';
import { BenchRunner, sleep, type StackRef } from './runner.js';
import { DEFAULT_RSS_BOUND, rssVerdict, soakSizes, type RssBound, type RssSample, type RssVerdict } from './soak-verdict.js';
import { subscribeSse } from './sse.js';
import { sumMetric } from './prom.js';

export interface SoakOptions {
  stack: StackRef;
  durationMs: number;
  /** aggTrades/s over all symbols. @defaultValue 1000 */
  rate?: number;
  /** @defaultValue 300 */
  symbols?: number;
  /** Ingest's planned connection rotation (INGEST_CONNECTION_LIFETIME). @defaultValue 3 minutes */
  rotationMs?: number;
  /** Mean time between random server-side disconnects (exponential). @defaultValue 90 s */
  disconnectMeanMs?: number;
  horizonMs?: number;
  warmupMs?: number;
  rssBound?: RssBound;
  /** @defaultValue 6 */
  partitions?: number;
  /** Seeds the market and the disconnect schedule. @defaultValue 7 */
  seed?: number;
  /** RSS sampling cadence. @defaultValue 10 s */
  sampleEveryMs?: number;
  say: (line: string) => void;
}

export interface SoakResult {
  ok: boolean;
  /** Why it failed, one line each (empty when ok). */
  failures: string[];
  startedAt: string;
  options: { durationMs: number; rate: number; symbols: number; rotationMs: number; disconnectMeanMs: number; horizonMs: number; warmupMs: number; partitions: number; seed: number; rssBound: RssBound };
  trades: number;
  /** Measured rate over the run. */
  rate: number;
  bars: { expected: number; actual: number; differing: number; firstDifference?: { expected: unknown; actual: unknown; columns: string[] } };
  disconnects: { injected: number; abrupt: number; byMarket: Record<string, number> };
  ingest: { reconnects: number; rotations: number; gaps: number; backfilled: number; unrecoverable: number };
  aggregator: { deadLetters: number; lateBeyondHorizon: number };
  pushed: number;
  rss: Record<string, RssVerdict>;
  /** Processes not running at the end (a crash). */
  exited: string[];
  load: { before: number; after: number };
  seconds: number;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const rate = o.rate ?? 1000;
  const symbols = o.symbols ?? 300;
  const rotationMs = o.rotationMs ?? 3 * MINUTE;
  const disconnectMeanMs = o.disconnectMeanMs ?? 90_000;
  const partitions = o.partitions ?? 6;
  const seed = o.seed ?? 7;
  const rssBound = o.rssBound ?? DEFAULT_RSS_BOUND;
  const sampleEveryMs = o.sampleEveryMs ?? 10_000;
  const sizes = soakSizes(o.durationMs, { ...(o.horizonMs ? { horizonMs: o.horizonMs } : {}), ...(o.warmupMs ? { warmupMs: o.warmupMs } : {}) });
  const graceMs = 5000;
  const startedAt = new Date().toISOString();
  const load0 = loadAverage().load1;
  const runner = await BenchRunner.create({
    stack: o.stack,
    partitions,
    graceMs,
    sim: {
      pace: { mode: 'realtime' },
      sources: [{ kind: 'synthetic', seed, startTime: Math.floor(Date.now() / MINUTE) * MINUTE, symbols: specs(symbols, rate / symbols / BURST_RATE_FACTOR) }],
    },
    env: {
      ingest: { INGEST_CONNECTION_LIFETIME: `${rotationMs}ms` },
      aggregator: { AGGREGATOR_REVISION_HORIZON: `${sizes.horizonMs}ms` },
    },
  });
  const oracle = new IncrementalExpected(graceMs);
  let fedUpTo = 0;
  const feedOracle = (): void => {
    const all = runner.sim.groundTruth().all();
    if (all.length > fedUpTo) oracle.feed(all.slice(fedUpTo).map((t) => simTradeToAggTrade(t)));
    fedUpTo = all.length;
  };
  const rss = new Map<string, RssSample[]>();
  const disconnects = { injected: 0, abrupt: 0, byMarket: {} as Record<string, number> };
  let sub: ReturnType<typeof subscribeSse> | undefined;
  let pushed = 0;
  try {
    await Promise.all([runner.startService('config'), runner.startService('aggregator', 0), runner.startService('ingest'), runner.startService('web')]);
    await runner.waitStarted([...runner.procs.keys()]);
    await runner.waitSubscribed();
    await runner.waitAssigned();
    sub = subscribeSse(`${runner.webUrl}/api/stream`, (e) => {
      if (e.event === 'bar') pushed++;
    });
    await sub.ready.catch((err: Error) => o.say(`  (no live subscriber: ${err.message})`));
    const markets = [...new Set(runner.servedSymbols.map((s) => s.market))] as Market[];
    const rng = new Prng(seed, 77);
    const nextGap = (): number => Math.max(5_000, Math.round(-Math.log(1 - rng.uint32() / 2 ** 32) * disconnectMeanMs));
    o.say(`  ${runner.servedSymbols.length} symbols (${markets.join(', ')}) at ${fmt(rate)} aggTrades/s for ${r1(o.durationMs / MINUTE)} min; ingest rotates every ${r1(rotationMs / 1000)} s; random disconnects every ~${r1(disconnectMeanMs / 1000)} s; aggregator horizon ${r1(sizes.horizonMs / 1000)} s; warm-up ${r1(sizes.warmupMs / 1000)} s`);

    runner.startFeed();
    const t0 = Date.now();
    const end = t0 + o.durationMs;
    let nextSample = t0;
    let nextDisconnect = t0 + nextGap();
    let nextSay = t0 + 60_000;
    while (Date.now() < end) {
      const now = Date.now();
      if (now >= nextSample) {
        nextSample += sampleEveryMs;
        for (const [label, s] of runner.sample()) {
          let list = rss.get(label);
          if (!list) rss.set(label, (list = []));
          list.push({ atMs: s.atMs, rssBytes: s.rssBytes });
        }
        feedOracle();
      }
      if (now >= nextDisconnect) {
        nextDisconnect = now + nextGap();
        const market = markets[rng.uint32() % markets.length]!;
        const abrupt = rng.uint32() % 3 === 0;
        runner.sim.inject({ kind: 'disconnect', market, abrupt });
        disconnects.injected++;
        if (abrupt) disconnects.abrupt++;
        disconnects.byMarket[market] = (disconnects.byMarket[market] ?? 0) + 1;
      }
      if (now >= nextSay) {
        nextSay += 60_000;
        const mem = [...runner.sample()].filter(([l]) => !l.startsWith('bench')).map(([l, s]) => `${l} ${Math.round(s.rssBytes / 1048576)}`).join(', ');
        o.say(`  ${String(Math.round((now - t0) / 60_000)).padStart(4)} min  published ${fmt(runner.sim.stats().published)}  applied ${fmt(await runner.aggregatorSum('cvd_aggregator_trades_applied_total'))}  disconnects ${disconnects.injected}  pushed ${fmt(pushed)}  RSS MB: ${mem}`);
      }
      await sleep(Math.max(10, Math.min(nextSample, nextDisconnect, nextSay, end) - Date.now()));
    }
    runner.sim.pause();
    const runMs = Date.now() - t0;
    feedOracle();
    const expected = oracle.finish().map(asTableRow);
    o.say(`  feed stopped after ${r1(runMs / 1000)} s (${fmt(oracle.trades)} trades); waiting for every bar to be final and compared…`);
    // The last minutes turn final once each partition's watermark passes them plus the grace
    // (idle partitions advance by wall time), and the last backfills must land.
    let actual: Record<string, unknown>[] = [];
    const settleBy = Date.now() + 3 * MINUTE;
    const same = (): boolean => actual.length === expected.length && JSON.stringify(actual) === JSON.stringify(expected);
    while (Date.now() < settleBy) {
      actual = await runner.sql.rows(`SELECT ${COMPARED.join(', ')} FROM ${runner.names.table} ORDER BY market, symbol, ts`).catch(() => []);
      if (same()) break;
      await sleep(2000);
    }
    const failures: string[] = [];
    let differing = 0;
    let firstDifference: SoakResult['bars']['firstDifference'];
    if (!same()) {
      const key = (r: Record<string, unknown>): string => `${String(r.market)}|${String(r.symbol)}|${String(r.ts)}`;
      const got = new Map(actual.map((r) => [key(r), r]));
      for (const e of expected) {
        const a = got.get(key(e));
        if (a !== undefined && JSON.stringify(a) === JSON.stringify(e)) continue;
        differing++;
        firstDifference ??= { expected: e, actual: a ?? null, columns: COMPARED.filter((c) => JSON.stringify(e[c]) !== JSON.stringify(a?.[c])) };
      }
      failures.push(`bars: ${actual.length} in the table vs ${expected.length} expected, ${differing} expected bar(s) missing or different; first: ${JSON.stringify(firstDifference)}`);
    }
    const verdicts: Record<string, RssVerdict> = {};
    const warmupEnd = t0 + sizes.warmupMs;
    for (const [label, samples] of rss) {
      if (label.startsWith('bench')) continue;
      const v = rssVerdict(samples, t0, warmupEnd, rssBound);
      verdicts[label] = v;
      const isService = !['kafka', 'questdb'].includes(label);
      if (isService && !v.ok) failures.push(`${label}: RSS peaked at ${v.peakMb} MB after the warm-up, over its bound ${v.limitMb} MB (warm-up level ${v.baseMb} MB × ${1 + rssBound.pct / 100} + ${rssBound.mb} MB)`);
    }
    const exited = [...runner.procs].filter(([, p]) => !p.running).map(([l]) => l);
    for (const l of exited) failures.push(`${l} exited during the soak:\n${runner.procs.get(l)?.log.slice(-2000)}`);
    const ingestM = await runner.metrics('ingest');
    const n = (name: string): number => sumMetric(ingestM, name);
    const res: SoakResult = {
      ok: failures.length === 0,
      failures,
      startedAt,
      options: { durationMs: o.durationMs, rate, symbols, rotationMs, disconnectMeanMs, horizonMs: sizes.horizonMs, warmupMs: sizes.warmupMs, partitions, seed, rssBound },
      trades: oracle.trades,
      rate: Math.round(oracle.trades / (runMs / 1000)),
      bars: { expected: expected.length, actual: actual.length, differing, ...(firstDifference ? { firstDifference } : {}) },
      disconnects,
      ingest: { reconnects: n('cvd_ingest_reconnects_total'), rotations: n('cvd_ingest_rotations_total'), gaps: n('cvd_ingest_gaps_total'), backfilled: n('cvd_ingest_backfilled_total'), unrecoverable: n('cvd_ingest_unrecoverable_total') },
      aggregator: { deadLetters: await runner.aggregatorSum('cvd_aggregator_dead_letters_total'), lateBeyondHorizon: await runner.aggregatorSum('cvd_aggregator_late_beyond_horizon_total') },
      pushed,
      rss: verdicts,
      exited,
      load: { before: load0, after: loadAverage().load1 },
      seconds: Math.round(runMs / 1000),
    };
    if (res.ingest.rotations === 0) failures.push('ingest never rotated a connection: the rotation was not exercised');
    if (disconnects.injected === 0) failures.push('no disconnect was injected: the run is too short for the disconnect schedule');
    res.ok = failures.length === 0;
    return res;
  } finally {
    sub?.close();
    await runner.stop();
  }
}

/** The report as text: one line per check, then RSS per process. */
export function renderSoak(r: SoakResult): string {
  const out: string[] = [];
  out.push(`soak ${r.ok ? 'PASSED' : 'FAILED'}: ${r.seconds} s, ${fmt(r.trades)} trades (${fmt(r.rate)}/s) over ${r.options.symbols} symbols, load ${r.load.before} → ${r.load.after}`);
  out.push(`bars: ${r.bars.actual} in the table, ${r.bars.expected} expected, ${r.bars.differing} differing`);
  out.push(`disconnects injected: ${r.disconnects.injected} (${r.disconnects.abrupt} abrupt; ${MARKETS.filter((m) => r.disconnects.byMarket[m]).map((m) => `${m} ${r.disconnects.byMarket[m]}`).join(', ')}); ingest: ${r.ingest.rotations} rotations, ${r.ingest.reconnects} reconnects, ${r.ingest.gaps} gaps, ${fmt(r.ingest.backfilled)} trades backfilled, ${r.ingest.unrecoverable} unrecoverable`);
  out.push(`aggregator: ${r.aggregator.deadLetters} dead letters, ${r.aggregator.lateBeyondHorizon} beyond the horizon; bars pushed to the live chart: ${fmt(r.pushed)}`);
  out.push('RSS (MB)        warm-up   peak after   bound   slope MB/h');
  for (const [l, v] of Object.entries(r.rss)) out.push(`  ${l.padEnd(13)} ${String(v.baseMb).padStart(7)} ${String(v.peakMb).padStart(12)} ${String(v.limitMb).padStart(7)} ${String(v.slopeMbPerHour).padStart(12)}${['kafka', 'questdb'].includes(l) ? '  (reported, not judged)' : v.ok ? '' : '  OVER'}`);
  for (const f of r.failures) out.push(`FAILED: ${f}`);
  return out.join('\n');
}
