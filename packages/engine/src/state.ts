/** Engine state: per (market, symbol) the CVD chain tail, agg-id bookkeeping and retained bars. */
import { cvdClose, type Bar } from './bar.js';
import { Decimal, decimal } from './decimal.js';
import { resolveOptions, type EngineOptions } from './options.js';
import { emptySequence, type SequenceState } from './sequence.js';
import type { Market } from '@cvd/core';

export interface SymbolState {
  readonly market: Market;
  readonly symbol: string;
  /** CVD after every bar that left the horizon (the anchor before that). */
  cvdBase: Decimal;
  readonly seq: SequenceState;
  /** Bars inside the horizon, sorted by ts; a chain: bar[i].cvdOpen = cvdClose(bar[i-1]). */
  bars: Bar[];
}

/** A runtime anchor's point: the first bar at or after minute `ts` opens at `cvd`. */
export interface AnchorPoint {
  readonly ts: number;
  readonly cvd: Decimal;
}

/** Runtime anchors of one symbol (see `setAnchor`). */
export interface SymbolAnchors {
  /** The value last set (canonical decimal): setting it again is no change. */
  value: string;
  /** Points not yet behind the horizon, sorted by ts; once a bar at or after one leaves the horizon, the point is part of `cvdBase`. */
  points: AnchorPoint[];
}

/**
 * The whole engine state. Treat it as opaque: mutate it only through `applyBatch`, persist it
 * only through `serializeState`.
 */
export interface EngineState {
  readonly options: EngineOptions;
  /** Highest watermark seen; -Infinity before the first batch. */
  watermarkMs: number;
  /** Keyed `market:SYMBOL`, in first-seen order. */
  readonly symbols: Map<string, SymbolState>;
  /** Runtime anchors keyed `market:SYMBOL` (also for symbols not seen yet). */
  readonly anchors: Map<string, SymbolAnchors>;
}

/** A fresh state; throws `EngineError('invalid-options')` on bad options. */
export function createState(options: Partial<EngineOptions> = {}): EngineState {
  return { options: resolveOptions(options), watermarkMs: Number.NEGATIVE_INFINITY, symbols: new Map(), anchors: new Map() };
}

export function createSymbolState(options: EngineOptions, key: string, market: Market, symbol: string): SymbolState {
  const anchor = options.anchors[key];
  return {
    market,
    symbol,
    cvdBase: anchor === undefined ? Decimal.ZERO : decimal(anchor),
    seq: emptySequence(),
    bars: [],
  };
}

/** Index of the bar with `ts`, or `-(insertion point) - 1`. */
export function findBar(bars: readonly Bar[], ts: number): number {
  // Fast path: trades mostly land in the newest bar.
  const lastIndex = bars.length - 1;
  const last = bars[lastIndex];
  if (last !== undefined) {
    if (last.ts === ts) return lastIndex;
    if (ts > last.ts) return -bars.length - 1;
  }
  let lo = 0;
  let hi = lastIndex;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const m = bars[mid]!.ts;
    if (m < ts) lo = mid + 1;
    else if (m > ts) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

/**
 * The cvd_open of a bar at minute `ts` placed after `previous`: the chain continues from the
 * previous bar (or the symbol's `cvdBase`), unless an anchor point lies in
 * `(previous.ts, ts]` — then the chain restarts at the newest such point's value.
 */
export function chainOpen(sym: SymbolState, previous: Bar | undefined, ts: number, points: readonly AnchorPoint[] | undefined): Decimal {
  if (points !== undefined) {
    for (let k = points.length - 1; k >= 0; k--) {
      const p = points[k]!;
      if (p.ts <= ts && (previous === undefined || p.ts > previous.ts)) return p.cvd;
    }
  }
  return previous === undefined ? sym.cvdBase : cvdClose(previous);
}

/** Re-links the CVD chain from bar `from` on; calls `changed` for every bar whose cvd_open moved. */
export function relinkChain(sym: SymbolState, from: number, changed: (bar: Bar) => void, points?: readonly AnchorPoint[]): void {
  const bars = sym.bars;
  for (let i = Math.max(0, from); i < bars.length; i++) {
    const bar = bars[i]!;
    const open = chainOpen(sym, bars[i - 1], bar.ts, points);
    if (!open.eq(bar.cvdOpen)) {
      bar.cvdOpen = open;
      changed(bar);
    }
  }
}
