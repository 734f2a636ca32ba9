/**
 * What the bench's phases share: the symbol mix, record sizes and the CPU/RSS accounting. Each
 * phase lives in its own file (`phase-throughput.ts`, `phase-latency.ts`, `phase-startup.ts`),
 * starts its own services (fresh topics/table) and stops them.
 */
import type { Market } from '@cvd/core';
import { simTradeToAggTrade } from '@cvd/e2e';
import { encodeTrade } from '@cvd/schemas';
import { generatedSymbols, type SimTrade, type SyntheticSymbolSpec } from '@cvd/simulator';
import type { ProcSample } from './proc.js';

export type Say = (line: string) => void;
export const MINUTE = 60_000;
export const SERVICES = ['ingest', 'aggregator', 'config'] as const;

/** Mean arrival rate of a synthetic symbol is this × its calm `tradesPerSecond` (default bursts). */
export const BURST_RATE_FACTOR = (1 / 0.02 + 40) / (1 / 0.02 + 40 / 20);

/** Spreads N symbols over the markets like a real watch list: 40 % spot, 40 % USD-M, 20 % COIN-M. */
export function symbolCounts(n: number): Record<Market, number> {
  const coinm = Math.floor(n * 0.2);
  const spot = Math.ceil((n - coinm) / 2);
  return { spot, usdm: n - coinm - spot, coinm };
}

/** The synthetic symbols of a phase, optionally at one calm rate. */
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
/** A count for progress lines: `1,234,567`. */
export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
