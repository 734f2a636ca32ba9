/**
 * Latency at a fixed real-time rate: ingest → apply (the aggregator's histogram), publish →
 * pushed to a live subscriber of the web service's bar stream, publish → visible in QuestDB
 * (polled), how soon after a minute ends its bars turn final, and each service's event-loop delay.
 */
import { EventLoopWatch, type EventLoopDelay } from './eventloop.js';
import { subscribeSse } from './sse.js';
import { BURST_RATE_FACTOR, fmt, MINUTE, round, specs, usage, type Say, type ServiceUsage } from './phases.js';
import { BenchRunner, sleep, type StackRef } from './runner.js';
import { histogramQuantile, percentiles, type Percentiles } from './stats.js';

export interface LatencyOptions {
  stack: StackRef;
  symbols: number;
  /** Target aggTrades/s over all symbols (real-time pace, default bursts). */
  rate: number;
  durationMs: number;
  /** Trade time of the first minute end after the start (so a short run sees a final bar). */
  leadMs: number;
  graceMs: number;
  partitions: number;
  aggregators: number;
  say: Say;
}

export interface LatencyResult {
  symbols: number;
  targetRate: number;
  /** Measured: published trades / feed seconds. */
  rate: number;
  trades: number;
  seconds: number;
  /** `cvd_aggregator_ingest_to_apply_seconds`, ms (interpolated within histogram buckets). */
  ingestToApplyMs: { p50: number; p99: number; p999: number; count: number };
  /**
   * Simulator publish → the first bar holding the trade arrives at an SSE subscriber of
   * `/api/stream` (all symbols), ms; `undefined` when the web service has no stream.
   */
  tradeToPushedMs?: Percentiles & { notSeen: number };
  /** Simulator publish → QuestDB query shows a bar holding the trade, ms (100 ms polling). */
  tradeToVisibleMs: Percentiles & { notVisible: number };
  /** Per minute end: the minute's last bar final in QuestDB, ms after the minute ended (wall). */
  finalAfterMinuteEndMs: { minute: string; ms: number; bars: number }[];
  graceMs: number;
  flushIntervalMs: number;
  eventLoop: Record<string, EventLoopDelay>;
  usage: Record<string, ServiceUsage>;
}

export async function runLatency(o: LatencyOptions): Promise<LatencyResult> {
  const perSymbolCalm = o.rate / o.symbols / BURST_RATE_FACTOR;
  // Trade times near the wall clock, a minute end `leadMs` after the first trade.
  const startTime = Math.ceil((Date.now() + o.leadMs + 15_000) / MINUTE) * MINUTE - o.leadMs;
  const runner = await BenchRunner.create({
    stack: o.stack,
    partitions: o.partitions,
    graceMs: o.graceMs,
    sim: {
      pace: { mode: 'realtime' },
      sources: [{ kind: 'synthetic', seed: 7, startTime, symbols: specs(o.symbols, perSymbolCalm), durationMs: o.durationMs }],
    },
  });
  try {
    await runner.startService('config');
    await runner.startAggregators(o.aggregators);
    await runner.startService('ingest');
    await runner.startService('web');
    await runner.waitStarted([...runner.procs.keys()]);
    await runner.waitSubscribed();
    await runner.waitAssigned();
    const pushed = new Map<string, { lastId: number; at: number }[]>();
    const sub = subscribeSse(`${runner.webUrl}/api/stream`, (e, at) => {
      if (e.event !== 'bar') return;
      // The web service's `event: bar`: the /api/bars row shape plus market, symbol, last_agg_id.
      const b = JSON.parse(e.data) as { market: string; symbol: string; last_agg_id: number };
      record(pushed, `${b.market}:${b.symbol}`, b.last_agg_id, at);
    });
    const streaming = await sub.ready.then(
      () => true,
      (err: Error) => (o.say(`  (no bar stream to subscribe to: ${err.message})`), false),
    );
    const watch = new EventLoopWatch(() => [...runner.procs.keys()], (l) => runner.metrics(l));
    await watch.start();
    const before = runner.sample();
    const t0 = Date.now();
    runner.startFeed();
    // Publish-time samples: trade index i was published in (samples[k-1].at, samples[k].at].
    const pubs: { at: number; n: number }[] = [{ at: t0, n: 0 }];
    const sampler = setInterval(() => pubs.push({ at: Date.now(), n: runner.sim.stats().published }), 10);
    const visible = new Map<string, { lastId: number; at: number }[]>();
    const finals = new Map<number, { at: number; count: number }[]>();
    let simDone = false;
    void runner.sim.done().then(() => (simDone = true));
    let doneAt: number | undefined;
    let lastSay = 0;
    const hardStop = t0 + o.durationMs + 60_000;
    while (Date.now() < hardStop) {
      const sent = Date.now();
      const rows = await runner.sql.rows(`SELECT market, symbol, last_agg_id FROM ${runner.names.table} LATEST ON ts PARTITION BY market, symbol`).catch(() => []);
      const at = Date.now();
      for (const r of rows) record(visible, `${String(r.market)}:${String(r.symbol)}`, Number(r.last_agg_id), at);
      const fin = await runner.sql.rows(`SELECT ts, count() c FROM ${runner.names.table} WHERE final = true`).catch(() => []);
      const finAt = Date.now();
      for (const r of fin) {
        const ts = Date.parse(String(r.ts));
        const list = finals.get(ts) ?? [];
        if (!list.length) finals.set(ts, list);
        const c = Number(r.c);
        if (!list.length || list[list.length - 1]!.count < c) list.push({ at: finAt, count: c });
      }
      if (at - lastSay >= 5000) {
        lastSay = at;
        o.say(`  ${((at - t0) / 1000).toFixed(0).padStart(4)} s  published ${fmt(runner.sim.stats().published)}  symbols visible ${visible.size}  final minutes ${finals.size}`);
      }
      if (simDone && doneAt === undefined) doneAt = Date.now();
      if (doneAt !== undefined && Date.now() - doneAt > 3000) break;
      const wait = 100 - (Date.now() - sent);
      if (wait > 0) await sleep(wait);
    }
    clearInterval(sampler);
    const end = doneAt ?? Date.now();
    const after = runner.sample();
    sub.close();
    const eventLoop = await watch.stop();
    const hist = await runner.aggregatorHistogram('cvd_aggregator_ingest_to_apply_seconds');
    const all = runner.sim.groundTruth().all();
    // Publish wall time of trade i: midpoint of the sampling interval it was published in.
    const pubAt = new Float64Array(all.length);
    let k = 1;
    for (let i = 0; i < all.length; i++) {
      while (k < pubs.length - 1 && pubs[k]!.n <= i) k++;
      pubAt[i] = (pubs[k - 1]!.at + pubs[k]!.at) / 2;
    }
    // Wall clock − trade time: publishing follows trade time at real-time pace.
    let offset = Infinity;
    for (let i = 0; i < all.length; i += 97) offset = Math.min(offset, pubAt[i]! - all[i]!.T);
    const { latencies: lat, missed: notVisible } = firstSeen(all, pubAt, visible);
    const push = streaming ? firstSeen(all, pubAt, pushed) : undefined;
    // Minutes that ended while the run (and their grace) was still going.
    const perMinute = new Map<number, Set<string>>();
    for (const t of all) {
      const m = Math.floor(t.T / MINUTE) * MINUTE;
      let s = perMinute.get(m);
      if (!s) perMinute.set(m, (s = new Set()));
      s.add(`${t.market}:${t.symbol}`);
    }
    const lastT = all.at(-1)?.T ?? 0;
    const finalAfter: LatencyResult['finalAfterMinuteEndMs'] = [];
    for (const [m, syms] of [...perMinute].sort((a, b) => a[0] - b[0])) {
      if (m + MINUTE + o.graceMs + 2000 > lastT) continue; // the feed stopped before it could close
      const hit = finals.get(m)?.find((f) => f.count >= syms.size);
      const minuteEndWall = m + MINUTE + offset;
      finalAfter.push({ minute: new Date(m).toISOString(), ms: hit ? Math.round(hit.at - minuteEndWall) : Number.NaN, bars: syms.size });
    }
    const q = (x: number): number => round(histogramQuantile(hist, x) * 1000, 1);
    const vis = percentiles(lat);
    const pushP = push ? percentiles(push.latencies) : undefined;
    const seconds = (end - t0) / 1000;
    return {
      symbols: o.symbols,
      targetRate: o.rate,
      rate: Math.round(all.length / (o.durationMs / 1000)),
      trades: all.length,
      seconds: round(seconds, 1),
      ingestToApplyMs: { p50: q(0.5), p99: q(0.99), p999: q(0.999), count: hist.at(-1)?.count ?? 0 },
      ...(pushP && push ? { tradeToPushedMs: { ...mapValues(pushP, (v) => round(v, 0)), count: pushP.count, notSeen: push.missed } } : {}),
      tradeToVisibleMs: { ...mapValues(vis, (v) => round(v, 0)), count: vis.count, notVisible },
      finalAfterMinuteEndMs: finalAfter,
      graceMs: o.graceMs,
      flushIntervalMs: 500,
      eventLoop,
      usage: usage(before, after, all.length, end - t0),
    };
  } finally {
    await runner.stop();
  }
}

type Sightings = Map<string, { lastId: number; at: number }[]>;

/** Notes that `key`'s bar held every id up to `lastId` at wall time `at` (ids only grow). */
function record(seen: Sightings, key: string, lastId: number, at: number): void {
  let list = seen.get(key);
  if (!list) seen.set(key, (list = []));
  if (!list.length || list[list.length - 1]!.lastId < lastId) list.push({ lastId, at });
}

/**
 * Per trade (in publish order), the wall time from its publish to the first sighting of a bar
 * of its symbol whose last id reaches the trade's id; trades never seen are counted as missed.
 */
export function firstSeen(
  all: readonly { market: string; symbol: string; a: number }[],
  pubAt: Float64Array,
  seen: Sightings,
): { latencies: number[]; missed: number } {
  const latencies: number[] = [];
  let missed = 0;
  const ptr = new Map<string, number>();
  for (let i = 0; i < all.length; i++) {
    const t = all[i]!;
    const key = `${t.market}:${t.symbol}`;
    const list = seen.get(key);
    let p = ptr.get(key) ?? 0;
    while (list && p < list.length && list[p]!.lastId < t.a) p++;
    ptr.set(key, p);
    const ev = list?.[p];
    if (!ev) missed++;
    else latencies.push(Math.max(0, ev.at - pubAt[i]!));
  }
  return { latencies, missed };
}

function mapValues<T extends object>(o: T, f: (v: number) => number): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? f(v) : v])) as T;
}
