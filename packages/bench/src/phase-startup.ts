/** Start-up and memory with many symbols: time to `started` and to every stream subscribed. */
import { MINUTE, specs, usage, type Say, type ServiceUsage } from './phases.js';
import { BenchRunner, sleep, type StackRef } from './runner.js';

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
