/**
 * The bar reducer: `(state, trades, watermark) -> bar upserts`, pure and deterministic.
 *
 * Per batch: each trade (trusted: checked at a boundary) is deduplicated, checked against
 * the engine's rules (no zero price or qty) and the horizon, and applied
 * to its minute's bar; then the CVD chain of every symbol that changed is re-linked, the
 * watermark advances, bars past `m + 60s + grace` turn final (a bar an open hole could hold
 * trades of waits up to `holeHoldMs` longer, and the bars after it with it), every changed bar
 * is emitted once (its latest version) and bars past the horizon are dropped into the chain tail.
 */

/**
 * Whether the bar of minute `ts` may be final at `watermark`: its minute is past `m + 60s +
 * grace`, and no open hole could still hold its trades — or the hole hold is over.
 */
function mayBeFinal(options: EngineOptions, seq: SequenceState, ts: number, watermark: number): boolean {
  if (finalAt(options, ts) > watermark) return false;
  return finalAfterHold(options, ts) <= watermark || !holeCouldHold(seq, ts);
}
import { addTrade, createBar, toRow, type Bar, type BarRow } from './bar.js';
import { parseDecimal } from './decimal.js';
import { EngineError } from './errors.js';
import { expiresAt, finalAfterHold, finalAt, MINUTE_MS, type EngineOptions } from './options.js';
import { classifyId, enforceHoleCap, holeCouldHold, recordId, settleExpired, type SequenceState } from './sequence.js';
import { chainOpen, createSymbolState, findBar, relinkChain, type EngineState, type SymbolState } from './state.js';
import { priceTrade, type EngineTrade } from './trade.js';
import { symbolKey } from '@cvd/core';

/** Why a trade was not applied (duplicates are only counted, not listed). */
export type RejectReason =
  /** Its price is zero: a zero-price trade would drag the bar's low to 0. */
  | 'zero-price'
  /**
   * Its quantity is zero (Binance has published such aggTrades): it moves no volume, and
   * applying it would still move the bar's high/low/close and trade count.
   */
  | 'zero-qty'
  /** Its minute is past the horizon: needs an explicit rebuild. */
  | 'beyond-horizon'
  /** Its agg id lies in a settled part of the sequence (see README). */
  | 'settled-id';

export interface RejectedTrade {
  /** Position in the batch. */
  readonly index: number;
  readonly trade: EngineTrade;
  readonly reason: RejectReason;
  readonly detail: string;
}

export interface BatchStats {
  /** Trades applied to a bar (including late revisions). */
  applied: number;
  /** Trades dropped because their (market, symbol, aggId) was already applied. */
  duplicates: number;
  /** Applied trades whose bar was already final (the bar and the later CVD chain were revised). */
  lateRevisions: number;
  /** Trades not applied because they are past the horizon (`beyond-horizon` and `settled-id`). */
  lateBeyondHorizon: number;
  /** Trades refused by the engine's rules (`zero-price`, `zero-qty`). */
  invalid: number;
  /** Open agg-id holes settled because `maxHolesPerSymbol` was exceeded. */
  holesEvicted: number;
}

export interface BatchResult {
  /** Changed bars, latest version, each at most once, by symbol (first-seen order) then ts. */
  readonly upserts: BarRow[];
  readonly stats: BatchStats;
  /** Invalid and too-late trades, for dead-lettering and metrics. */
  readonly rejected: RejectedTrade[];
}

interface Touched {
  readonly dirty: Set<Bar>;
  /** Bars with index > this may have a stale cvd_open. */
  chainFrom: number;
}

/**
 * Applies a batch of trades, then advances the watermark to `max(previous, watermarkMs)`.
 * Trades are judged late against the watermark *before* this batch. Mutates `state`.
 * The trades are trusted (they passed the core's `checkTrade` at a boundary); refused ones
 * come back in `rejected`. Throws `EngineError('invalid-watermark')` if `watermarkMs` is
 * not a finite number, and a `RangeError` for a price or qty that is not a decimal (a caller
 * that skipped the boundary check).
 */
export function applyBatch(state: EngineState, trades: readonly EngineTrade[], watermarkMs: number): BatchResult {
  if (typeof watermarkMs !== 'number' || !Number.isFinite(watermarkMs)) {
    throw new EngineError('invalid-watermark', `watermark must be a finite number, got ${String(watermarkMs)}`);
  }
  const options = state.options;
  const stats: BatchStats = {
    applied: 0,
    duplicates: 0,
    lateRevisions: 0,
    lateBeyondHorizon: 0,
    invalid: 0,
    holesEvicted: 0,
  };
  const rejected: RejectedTrade[] = [];
  const touched = new Map<SymbolState, Touched>();
  const previousWatermark = state.watermarkMs;
  /** Bars created in this batch for minutes already past `m + 60s + grace`. */
  const lateCreated = new Set<Bar>();

  const touch = (sym: SymbolState): Touched => {
    let t = touched.get(sym);
    if (t === undefined) {
      t = { dirty: new Set(), chainFrom: Number.POSITIVE_INFINITY };
      touched.set(sym, t);
    }
    return t;
  };

  for (let index = 0; index < trades.length; index++) {
    const raw = trades[index]!;
    const trade = priceTrade(raw);
    if (trade.price.isZero() || trade.qty.isZero()) {
      stats.invalid++;
      rejected.push({ index, trade: raw, reason: trade.price.isZero() ? 'zero-price' : 'zero-qty', detail: 'zero' });
      continue;
    }
    let sym = state.symbols.get(trade.key);
    const cls = sym === undefined ? 'new' : classifyId(sym.seq, trade.aggId);
    if (cls === 'seen') {
      stats.duplicates++;
      continue;
    }
    if (expiresAt(options, trade.minute) <= previousWatermark) {
      stats.lateBeyondHorizon++;
      rejected.push({ index, trade: raw, reason: 'beyond-horizon', detail: `minute ${trade.minute}` });
      continue;
    }
    if (cls === 'settled') {
      stats.lateBeyondHorizon++;
      rejected.push({ index, trade: raw, reason: 'settled-id', detail: `aggId ${trade.aggId}` });
      continue;
    }
    if (sym === undefined) {
      sym = createSymbolState(options, trade.key, trade.market, trade.symbol);
      state.symbols.set(trade.key, sym);
    }
    const t = touch(sym);
    const bars = sym.bars;
    let at = findBar(bars, trade.minute);
    if (at < 0) {
      at = -at - 1;
      const open = chainOpen(sym, bars[at - 1], trade.minute, state.anchors.get(trade.key)?.points);
      // Final bars are a prefix: a bar before a final one is final; any other new bar is
      // judged with the others at the end of the batch (against the holes then open).
      const created = createBar(trade.minute, open, bars[at]?.final === true);
      bars.splice(at, 0, created);
      if (finalAt(options, trade.minute) <= previousWatermark) lateCreated.add(created);
    }
    const bar = bars[at]!;
    // A trade for a minute already past finality counts as late (a new bar there is judged at the end).
    if (bar.final || lateCreated.has(bar)) stats.lateRevisions++;
    addTrade(bar, {
      id: trade.aggId,
      price: trade.price,
      qty: trade.qty,
      buyerMaker: trade.buyerMaker,
      count: trade.count,
      recovered: trade.recovered,
    });
    t.dirty.add(bar);
    // A bar that is not the newest changes the cvd_open of every later bar.
    if (at < bars.length - 1 && at < t.chainFrom) t.chainFrom = at;
    stats.applied++;

    for (const adj of recordId(sym.seq, trade.aggId, trade.minute)) {
      const ownerAt = findBar(bars, adj.owner);
      if (ownerAt < 0) continue; // owner left the horizon: its final row cannot change any more
      const owner = bars[ownerAt]!;
      owner.missingAggIds += adj.delta;
      t.dirty.add(owner);
    }
    stats.holesEvicted += enforceHoleCap(sym.seq, options.maxHolesPerSymbol);
  }

  for (const [sym, t] of touched) {
    if (t.chainFrom !== Number.POSITIVE_INFINITY) {
      relinkChain(sym, t.chainFrom + 1, (bar) => t.dirty.add(bar), state.anchors.get(symbolKey(sym.market, sym.symbol))?.points);
    }
  }

  const watermark = Math.max(previousWatermark, watermarkMs);
  state.watermarkMs = watermark;
  const upserts: BarRow[] = [];
  // Minutes whose expiry is <= watermark are past the horizon.
  const expiredUpTo = watermark - MINUTE_MS - options.graceMs - options.horizonMs;
  for (const sym of state.symbols.values()) {
    const bars = sym.bars;
    let dirty = touched.get(sym)?.dirty;
    // Final bars form a prefix, so only the forming suffix is looked at, oldest first: the
    // first bar that may not be final yet (its minute, or an open hole) holds the later ones.
    let first = bars.length;
    while (first > 0 && !bars[first - 1]!.final) first--;
    for (let i = first; i < bars.length; i++) {
      const bar = bars[i]!;
      if (!mayBeFinal(options, sym.seq, bar.ts, watermark)) break;
      bar.final = true;
      if (dirty === undefined) dirty = touch(sym).dirty;
      dirty.add(bar);
    }
    if (dirty !== undefined && dirty.size > 0) {
      const changed = [...dirty].sort((a, b) => a.ts - b.ts);
      for (const bar of changed) upserts.push(toRow(bar, sym.market, sym.symbol));
    }
    let expired = 0;
    while (expired < bars.length && expiresAt(options, bars[expired]!.ts) <= watermark) expired++;
    if (expired > 0) {
      const lastExpired = bars[expired - 1]!;
      sym.cvdBase = lastExpired.cvdOpen.add(lastExpired.delta);
      bars.splice(0, expired);
      // Anchor points up to the dropped bars are now part of cvdBase.
      const anchors = state.anchors.get(symbolKey(sym.market, sym.symbol));
      if (anchors !== undefined) anchors.points = anchors.points.filter((p) => p.ts > lastExpired.ts);
    }
    settleExpired(sym.seq, expiredUpTo);
  }
  return { upserts, stats, rejected };
}

/**
 * Sets a CVD anchor for `key` (`market:SYMBOL`) at run time: the symbol's first bar at or
 * after minute `fromMs` opens at `cvd`, and the chain continues from there. Bars before
 * `fromMs` are never changed; bars at or after it that exist already are re-linked and
 * returned (a caller passing the minute after the anchor was set finds none in a live
 * stream). Deterministic: the result depends on `fromMs`, not on when the call happens, so a
 * replay gives the same bars. Setting the value the symbol's last anchor had is no change
 * (a republished config record does not restart the CVD). Mutates `state`; throws
 * `EngineError('invalid-options')` on a bad value or a `fromMs` that is not a minute.
 */
export function setAnchor(state: EngineState, key: string, cvd: string, fromMs: number): BarRow[] {
  const parsed = parseDecimal(cvd, { signed: true });
  if (!parsed.ok) throw new EngineError('invalid-options', `anchor ${key}: ${parsed.error}`);
  if (!Number.isSafeInteger(fromMs) || fromMs % MINUTE_MS !== 0) {
    throw new EngineError('invalid-options', `anchor ${key}: fromMs must be a minute, got ${String(fromMs)}`);
  }
  const value = parsed.value.toString();
  const existing = state.anchors.get(key);
  if (existing?.value === value) return [];
  const points = (existing?.points ?? []).filter((p) => p.ts !== fromMs);
  points.push({ ts: fromMs, cvd: parsed.value });
  points.sort((a, b) => a.ts - b.ts);
  state.anchors.set(key, { value, points });
  const sym = state.symbols.get(key);
  if (sym === undefined) return [];
  const changed: Bar[] = [];
  const from = sym.bars.findIndex((b) => b.ts >= fromMs);
  if (from >= 0) relinkChain(sym, from, (bar) => changed.push(bar), points);
  return changed.map((bar) => toRow(bar, sym.market, sym.symbol));
}
