/**
 * What a user runs: the whole pipeline (config, ingest, aggregator, web with one live chart
 * subscribed, Kafka, QuestDB) following N symbols at a fixed realistic rate for a while, and
 * what it costs: CPU cores and RSS per process, QuestDB rows written, event-loop delay.
 * The first `warmupSeconds` (connections, JIT, the first snapshots) are not measured.
 */
import { EventLoopWatch, type EventLoopDelay } from './eventloop.js';
import { BURST_RATE_FACTOR, fmt, MINUTE, round, specs, usage, type Say, type ServiceUsage } from './phases.js';
import { BenchRunner, sleep, type StackRef } from './runner.js';
import { subscribeSse } from './sse.js';

export interface SteadyRun {
  symbols: number;
  /** aggTrades/s over all symbols (real-time pace, default bursts). */
  rate: number;
}

export interface SteadyOptions {
  stack: StackRef;
  run: SteadyRun;
  seconds: number;
  warmupSeconds: number;
  partitions: number;
  say: Say;
}

export interface SteadyResult {
  symbols: number;
  targetRate: number;
  /** Measured: trades published in the window / window seconds. */
  rate: number;
  trades: number;
  seconds: number;
  usage: Record<string, ServiceUsage>;
  /** Cores of the services + Kafka + QuestDB (not the bench and simulator). */
  stackCores: number;
  /** QuestDB bar rows written per second by the aggregator over the window, and per symbol-minute. */
  questdbRowsPerSecond: number;
  questdbRowsPerSymbolMinute: number;
  /** Bars pushed to the one live subscriber (all symbols) over the window, per second. */
  pushedPerSecond: number;
  eventLoop: Record<string, EventLoopDelay>;
}

/** The processes whose cores make up "the stack" (the user's `cvd run`, plus Kafka and QuestDB). */
export const STACK_PROCESSES = ['ingest', 'aggregator', 'config', 'web', 'kafka', 'questdb'] as const;

export function stackCores(u: Record<string, ServiceUsage>): number {
  let c = 0;
  for (const p of STACK_PROCESSES) c += u[p]?.cores ?? 0;
  return round(c, 2);
}

export async function runSteady(o: SteadyOptions): Promise<SteadyResult> {
  const { symbols, rate } = o.run;
  const runner = await BenchRunner.create({
    stack: o.stack,
    partitions: o.partitions,
    graceMs: 5000,
    sim: {
      pace: { mode: 'realtime' },
      sources: [{ kind: 'synthetic', seed: 11, startTime: Math.floor(Date.now() / MINUTE) * MINUTE, symbols: specs(symbols, rate / symbols / BURST_RATE_FACTOR) }],
    },
  });
  let sub: ReturnType<typeof subscribeSse> | undefined;
  try {
    await Promise.all([runner.startService('config'), runner.startService('aggregator', 0), runner.startService('ingest'), runner.startService('web')]);
    await runner.waitStarted([...runner.procs.keys()]);
    await runner.waitSubscribed();
    await runner.waitAssigned();
    let pushed = 0;
    sub = subscribeSse(`${runner.webUrl}/api/stream`, (e) => {
      if (e.event === 'bar') pushed++;
    });
    await sub.ready.catch((err: Error) => o.say(`  (no live subscriber: ${err.message})`));
    runner.startFeed();
    o.say(`  ${symbols} symbols subscribed; warming up ${o.warmupSeconds} s, then measuring ${o.seconds} s…`);
    await sleep(o.warmupSeconds * 1000);
    const watch = new EventLoopWatch(() => [...runner.procs.keys()], (l) => runner.metrics(l));
    await watch.start();
    const before = runner.sample();
    const published0 = runner.sim.stats().published;
    const rows0 = await runner.aggregatorSum('cvd_aggregator_bars_written_total');
    const pushed0 = pushed;
    const t0 = Date.now();
    for (let left = o.seconds; left > 0; left -= 10) {
      await sleep(Math.min(10, left) * 1000);
      o.say(`  ${String(o.seconds - Math.max(0, left - 10)).padStart(4)} s  published ${fmt(runner.sim.stats().published - published0)}  pushed ${fmt(pushed - pushed0)}`);
    }
    const after = runner.sample();
    const wallMs = Date.now() - t0;
    const trades = runner.sim.stats().published - published0;
    const rows = (await runner.aggregatorSum('cvd_aggregator_bars_written_total')) - rows0;
    const eventLoop = await watch.stop();
    const u = usage(before, after, trades, wallMs);
    const secs = wallMs / 1000;
    return {
      symbols,
      targetRate: rate,
      rate: Math.round(trades / secs),
      trades,
      seconds: round(secs, 1),
      usage: u,
      stackCores: stackCores(u),
      questdbRowsPerSecond: round(rows / secs, 1),
      questdbRowsPerSymbolMinute: round((rows / secs) * 60 / symbols, 2),
      pushedPerSecond: round((pushed - pushed0) / secs, 1),
      eventLoop,
    };
  } finally {
    sub?.close();
    await runner.stop();
  }
}
