/**
 * Throughput: how fast trades go simulator → ingest → Kafka → aggregator → QuestDB, end to end
 * (`e2e`) or as a drain of a filled topic (`drain`), and whether every bar came out exact.
 */
import { asTableRow, COMPARED, expectedFromSimulator } from '@cvd/e2e';
import { fmt, meanRecordBytes, round, specs, usage, type Say, type ServiceUsage } from './phases.js';
import { BenchRunner, sleep, type StackRef } from './runner.js';
import { peakRate } from './stats.js';

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
