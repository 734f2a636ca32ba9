/** The bench's measurements; each phase starts its own services (fresh topics/table) and stops them. */
import type { Market } from '@cvd/core';
import { asTableRow, COMPARED, expectedFromSimulator, simTradeToAggTrade } from '@cvd/e2e';
import { encodeTrade } from '@cvd/schemas';
import { generatedSymbols, type SimTrade, type SyntheticSymbolSpec } from '@cvd/simulator';
import { BenchRunner, sleep, type StackRef } from './runner.js';
import type { ProcSample } from './proc.js';
import { peakRate } from './stats.js';

export type Say = (line: string) => void;
export const MINUTE = 60_000;
const SERVICES = ['ingest', 'aggregator', 'config'] as const;

/** Mean arrival rate of a synthetic symbol is this × its calm `tradesPerSecond` (default bursts). */
export const BURST_RATE_FACTOR = (1 / 0.02 + 40) / (1 / 0.02 + 40 / 20);

/** Spreads N symbols over the markets like a real watch list: 40 % spot, 40 % USD-M, 20 % COIN-M. */
export function symbolCounts(n: number): Record<Market, number> {
  const coinm = Math.floor(n * 0.2);
  const spot = Math.ceil((n - coinm) / 2);
  return { spot, usdm: n - coinm - spot, coinm };
}

export function specs(n: number, tradesPerSecond?: number): SyntheticSymbolSpec[] {
  return generatedSymbols({ counts: symbolCounts(n) }).map((s) => (tradesPerSecond === undefined ? s : { ...s, tradesPerSecond }));
}

/** Mean size in bytes of the `cvd.trades.v1` record values of these trades (Avro, one trade each). */
export function meanRecordBytes(trades: readonly SimTrade[], sample = 2000): number {
  const step = Math.max(1, Math.floor(trades.length / sample));
  let n = 0;
  let bytes = 0;
  for (let i = 0; i < trades.length; i += step) {
    bytes += encodeTrade(simTradeToAggTrade(trades[i]!, Date.now())).length;
    n++;
  }
  return n ? Math.round(bytes / n) : 0;
}

export interface ServiceUsage {
  cpuSeconds: number;
  /** CPU seconds per million trades over the measured window. */
  cpuSecondsPerMillion: number;
  /** Average cores busy over the window. */
  cores: number;
  rssMb: number;
  peakRssMb: number;
}

/** CPU/RSS per process label between two /proc samplings; aggregator replicas are summed as `aggregator`. */
export function usage(before: Map<string, ProcSample>, after: Map<string, ProcSample>, trades: number, wallMs: number): Record<string, ServiceUsage> {
  const out: Record<string, ServiceUsage> = {};
  for (const [label, b] of after) {
    const a = before.get(label);
    const cpu = b.cpuSeconds - (a?.cpuSeconds ?? 0);
    const name = label.startsWith('aggregator-') ? 'aggregator' : label;
    const prev = out[name];
    const rss = b.rssBytes / 2 ** 20;
    const hwm = b.hwmBytes / 2 ** 20;
    const cpuSeconds = (prev?.cpuSeconds ?? 0) + cpu;
    out[name] = {
      cpuSeconds: round(cpuSeconds, 2),
      cpuSecondsPerMillion: trades > 0 ? round((cpuSeconds * 1e6) / trades, 2) : Number.NaN,
      cores: round(cpuSeconds / (wallMs / 1000), 2),
      // Replicas: the largest one (each is its own process).
      rssMb: round(Math.max(prev?.rssMb ?? 0, rss), 1),
      peakRssMb: round(Math.max(prev?.peakRssMb ?? 0, hwm), 1),
    };
  }
  return out;
}

export const round = (v: number, d = 0): number => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : v);
export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------
// Throughput

export interface ThroughputOptions {
  stack: StackRef;
  symbols: number;
  trades: number;
  aggregators: number;
  partitions: number;
  /**
   * `e2e`: every service runs while the simulator publishes as fast as ingest drains (`fast`).
   * `drain`: ingest first fills the topic; then the aggregators start and drain it (isolates the
   * aggregator → QuestDB side; used for the replica × partition scaling curve).
   */
  mode: 'e2e' | 'drain';
  timeoutMs: number;
  say: Say;
  cpuProfDir?: string;
}

export interface ThroughputResult {
  mode: 'e2e' | 'drain';
  symbols: number;
  aggregators: number;
  partitions: number;
  trades: number;
  recordBytes: number;
  /** Simulator → every trade's bar in QuestDB (sum(agg_trades) = published). */
  seconds: number;
  tradesPerSecond: number;
  /** Highest rate of `cvd_aggregator_trades_applied_total` over 5 s (a third of the run when shorter). */
  peakAppliedPerSecond: number;
  /** e2e: simulator → ingest → Kafka alone (ingest published count reached the total). */
  ingestSeconds?: number;
  ingestTradesPerSecond?: number;
  /** drain: from the first applied trade to the last bar written. */
  drainSeconds?: number;
  drainTradesPerSecond?: number;
  exact: boolean;
  bars: number;
  expectedBars: number;
  barsWritten: number;
  usage: Record<string, ServiceUsage>;
  timedOut: boolean;
  /** When not exact: the first differing bar. */
  firstDifference?: { expected: unknown; actual: unknown; columns: string[] };
}

export async function runThroughput(o: ThroughputOptions): Promise<ThroughputResult> {
  const perSymbol = Math.ceil(o.trades / o.symbols);
  const runner = await BenchRunner.create({
    stack: o.stack,
    partitions: o.partitions,
    graceMs: 1000,
    sim: {
      pace: { mode: 'fast' },
      sources: [{ kind: 'synthetic', seed: 42, startTime: Date.UTC(2025, 0, 6, 12, 0), symbols: specs(o.symbols), tradesPerSymbol: perSymbol }],
    },
    env: { aggregator: { AGGREGATOR_IDLE_AFTER: '500ms' } },
    ...(o.cpuProfDir ? { cpuProfDir: o.cpuProfDir } : {}),
  });
  try {
    await runner.startService('config');
    if (o.mode === 'e2e') await runner.startAggregators(o.aggregators);
    await runner.startService('ingest');
    await runner.waitStarted([...runner.procs.keys()]);
    await runner.waitSubscribed();
    if (o.mode === 'e2e') await runner.waitAssigned();
    const total = o.symbols * perSymbol;
    const before = runner.sample();
    const t0 = Date.now();
    runner.startFeed();
    const deadline = t0 + o.timeoutMs;
    const applied: { atMs: number; value: number }[] = [];
    let ingestDoneMs: number | undefined;
    let aggStartMs: number | undefined;
    let firstAppliedMs: number | undefined;
    let doneMs: number | undefined;
    let lastSay = 0;
    while (Date.now() < deadline) {
      await sleep(250);
      const now = Date.now();
      const published = runner.sim.stats().published;
      const ingested = (await runner.metrics('ingest')).filter((s) => s.name === 'cvd_ingest_published_total').reduce((n, s) => n + s.value, 0);
      if (ingestDoneMs === undefined && ingested >= total) ingestDoneMs = now;
      if (o.mode === 'drain' && ingestDoneMs !== undefined && aggStartMs === undefined) {
        aggStartMs = Date.now();
        await runner.startAggregators(o.aggregators);
      }
      const a = await runner.aggregatorSum('cvd_aggregator_trades_applied_total');
      applied.push({ atMs: now, value: a });
      if (firstAppliedMs === undefined && a > 0) firstAppliedMs = now;
      let written = 0;
      if (a >= total) {
        const r = await runner.sql.rows(`SELECT sum(agg_trades) n FROM ${runner.names.table}`).catch(() => []);
        written = Number(r[0]?.n ?? 0);
        if (written >= total) {
          doneMs = Date.now();
          break;
        }
      }
      if (now - lastSay >= 2000) {
        lastSay = now;
        o.say(`  ${((now - t0) / 1000).toFixed(0).padStart(4)} s  simulator ${fmt(published)}  ingest ${fmt(ingested)}  aggregator ${fmt(a)} / ${fmt(total)}`);
      }
    }
    const end = doneMs ?? Date.now();
    const after = runner.sample();
    o.say(`  all ${fmt(total)} trades in QuestDB after ${((end - t0) / 1000).toFixed(1)} s; checking the bars against the ground truth…`);
    // Exactness: every column of every bar, all final.
    const expected = expectedFromSimulator(runner.sim, 1000).map(asTableRow);
    let actual: Record<string, unknown>[] = [];
    // The last minute turns final only once a quiet partition's watermark has advanced (by wall
    // time) past its end plus the grace: up to a minute and the grace after the partition's last
    // trade, more on partitions whose last trade came early in that minute.
    const settleBy = Date.now() + 90_000;
    while (Date.now() < settleBy) {
      actual = await runner.sql.rows(`SELECT ${COMPARED.join(', ')} FROM ${runner.names.table} ORDER BY market, symbol, ts`).catch(() => []);
      if (actual.length === expected.length && JSON.stringify(actual) === JSON.stringify(expected)) break;
      await sleep(1000);
    }
    const exact = actual.length === expected.length && JSON.stringify(actual) === JSON.stringify(expected);
    const barsWritten = await runner.aggregatorSum('cvd_aggregator_bars_written_total');
    const seconds = (end - t0) / 1000;
    const truth = runner.sim.groundTruth().all();
    const res: ThroughputResult = {
      mode: o.mode,
      symbols: o.symbols,
      aggregators: o.aggregators,
      partitions: o.partitions,
      trades: total,
      recordBytes: meanRecordBytes(truth),
      seconds: round(seconds, 2),
      tradesPerSecond: Math.round(total / seconds),
      peakAppliedPerSecond: Math.round(peakRate(applied, Math.min(5000, Math.max(1000, (end - t0) / 3)))),
      exact,
      bars: actual.length,
      expectedBars: expected.length,
      barsWritten,
      usage: usage(before, after, total, end - t0),
      timedOut: doneMs === undefined,
    };
    if (ingestDoneMs !== undefined) {
      res.ingestSeconds = round((ingestDoneMs - t0) / 1000, 2);
      res.ingestTradesPerSecond = Math.round((total * 1000) / (ingestDoneMs - t0));
    }
    if (o.mode === 'drain' && firstAppliedMs !== undefined) {
      res.drainSeconds = round((end - firstAppliedMs) / 1000, 2);
      res.drainTradesPerSecond = Math.round((total * 1000) / (end - firstAppliedMs));
    }
    if (!exact) {
      const i = expected.findIndex((e, j) => JSON.stringify(e) !== JSON.stringify(actual[j]));
      const cols = i < 0 ? [] : COMPARED.filter((c) => JSON.stringify(expected[i]![c]) !== JSON.stringify(actual[i]?.[c]));
      res.firstDifference = i < 0 ? undefined : { expected: expected[i], actual: actual[i], columns: cols };
      o.say(`  NOT EXACT: ${actual.length} bars vs ${expected.length} expected; first difference in ${cols.join(', ')}: ${JSON.stringify(res.firstDifference)}`);
      o.say(runner.logs().split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-20).join('\n'));
    }
    return res;
  } finally {
    await runner.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Start-up and memory with many symbols

export interface StartupOptions {
  stack: StackRef;
  symbols: number;
  /** How long trades flow (real time) before memory is read. */
  runMs: number;
  say: Say;
}

export interface StartupResult {
  symbols: number;
  /** Spawn → `started` logged, per service, ms (all three spawned together). */
  startedMs: Record<string, number>;
  /** Ingest spawn → every stream subscribed on the simulator (paced by Binance's message limits). */
  ingestSubscribedMs: number;
  rate: number;
  usage: Record<string, ServiceUsage>;
}

export async function runStartup(o: StartupOptions): Promise<StartupResult> {
  const tps = 0.1; // ~0.17/s per symbol with bursts: a quiet but live market
  const runner = await BenchRunner.create({
    stack: o.stack,
    partitions: 12,
    graceMs: 5000,
    sim: {
      pace: { mode: 'realtime' },
      sources: [{ kind: 'synthetic', seed: 3, startTime: Math.floor(Date.now() / MINUTE) * MINUTE, symbols: specs(o.symbols, tps) }],
    },
  });
  try {
    await Promise.all([runner.startService('config'), runner.startService('aggregator', 0), runner.startService('ingest')]);
    await runner.waitStarted([...runner.procs.keys()]);
    await runner.waitSubscribed();
    const subscribedAt = Date.now();
    const ingestSpawn = runner.starts.get('ingest')!.spawnedAtMs;
    const before = runner.sample();
    const t0 = Date.now();
    runner.startFeed();
    o.say(`  every service started, ${o.symbols} streams subscribed; trades flow for ${o.runMs / 1000} s…`);
    await sleep(o.runMs);
    const after = runner.sample();
    const published = runner.sim.stats().published;
    const startedMs: Record<string, number> = {};
    for (const [label, s] of runner.starts) startedMs[label.replace(/-0$/, '')] = (s.startedAtMs ?? Number.NaN) - s.spawnedAtMs;
    return {
      symbols: o.symbols,
      startedMs,
      ingestSubscribedMs: subscribedAt - ingestSpawn,
      rate: Math.round(published / ((Date.now() - t0) / 1000)),
      usage: usage(before, after, published, Date.now() - t0),
    };
  } finally {
    await runner.stop();
  }
}

export { SERVICES };
