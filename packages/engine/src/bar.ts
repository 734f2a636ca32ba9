/**
 * One retained 1-minute bar of one symbol and its output row.
 *
 * The bar keeps its trades (agg id, price, signed qty) sorted by agg id while it is inside
 * the horizon: OHLC and the CVD path follow agg-id order, so a late trade landing in the
 * middle of the minute needs the list to recompute the path. Sums are order-independent and
 * updated incrementally.
 */
import { Decimal } from './decimal.js';
import type { Market } from '@cvd/core';

/** One aggTrade as a bar needs it. */
export interface TradeEntry {
  readonly id: number;
  readonly price: Decimal;
  /** +q for a taker buy, -q for a taker sell. */
  readonly signedQty: Decimal;
}

export interface Bar {
  /** Minute open, ms. */
  readonly ts: number;
  final: boolean;
  /** Sorted by id, no duplicates. */
  entries: TradeEntry[];
  high: Decimal;
  low: Decimal;
  buyVolume: Decimal;
  sellVolume: Decimal;
  buyQuoteVolume: Decimal;
  sellQuoteVolume: Decimal;
  /** buyVolume - sellVolume, kept to avoid recomputing it. */
  delta: Decimal;
  /** Σ (l - f + 1). */
  trades: number;
  recovered: number;
  missingAggIds: number;
  /** CVD before the bar's first trade (= cvd_close of the previous retained bar or the tail). */
  cvdOpen: Decimal;
  /** max / min of the running delta inside the minute, 0 included (agg-id order). */
  pathHigh: Decimal;
  pathLow: Decimal;
}

/** A row of `cvd_bars_1m` (DESIGN §4) with exact canonical decimal strings. */
export interface BarRow {
  /** Minute open, ms (UTC). */
  readonly ts: number;
  readonly market: Market;
  readonly symbol: string;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: string;
  readonly buyVolume: string;
  readonly sellVolume: string;
  readonly quoteVolume: string;
  readonly buyQuoteVolume: string;
  readonly sellQuoteVolume: string;
  readonly delta: string;
  readonly quoteDelta: string;
  readonly cvdOpen: string;
  readonly cvdHigh: string;
  readonly cvdLow: string;
  readonly cvdClose: string;
  readonly trades: number;
  readonly aggTrades: number;
  readonly firstAggId: number;
  readonly lastAggId: number;
  readonly missingAggIds: number;
  readonly recovered: number;
  readonly final: boolean;
}

export function createBar(ts: number, cvdOpen: Decimal, final: boolean): Bar {
  return {
    ts,
    final,
    entries: [],
    high: Decimal.ZERO,
    low: Decimal.ZERO,
    buyVolume: Decimal.ZERO,
    sellVolume: Decimal.ZERO,
    buyQuoteVolume: Decimal.ZERO,
    sellQuoteVolume: Decimal.ZERO,
    delta: Decimal.ZERO,
    trades: 0,
    recovered: 0,
    missingAggIds: 0,
    cvdOpen,
    pathHigh: Decimal.ZERO,
    pathLow: Decimal.ZERO,
  };
}

export function cvdClose(bar: Bar): Decimal {
  return bar.cvdOpen.add(bar.delta);
}

/** Recomputes the in-minute CVD path from the entries (after an out-of-order insert). */
export function recomputePath(bar: Bar): void {
  let running = Decimal.ZERO;
  let high = Decimal.ZERO;
  let low = Decimal.ZERO;
  for (const e of bar.entries) {
    running = running.add(e.signedQty);
    if (running.cmp(high) > 0) high = running;
    if (running.cmp(low) < 0) low = running;
  }
  bar.pathHigh = high;
  bar.pathLow = low;
}

export interface BarTradeInput {
  readonly id: number;
  readonly price: Decimal;
  readonly qty: Decimal;
  readonly buyerMaker: boolean;
  /** `l - f + 1` */
  readonly count: number;
  readonly recovered: boolean;
}

/** Adds a trade whose id the bar does not hold yet. */
export function addTrade(bar: Bar, t: BarTradeInput): void {
  const signedQty = t.buyerMaker ? t.qty.neg() : t.qty;
  const quote = t.price.mul(t.qty);
  const entry: TradeEntry = { id: t.id, price: t.price, signedQty };
  const entries = bar.entries;
  if (entries.length === 0) {
    bar.high = t.price;
    bar.low = t.price;
  } else {
    if (t.price.cmp(bar.high) > 0) bar.high = t.price;
    if (t.price.cmp(bar.low) < 0) bar.low = t.price;
  }
  if (t.buyerMaker) {
    bar.sellVolume = bar.sellVolume.add(t.qty);
    bar.sellQuoteVolume = bar.sellQuoteVolume.add(quote);
  } else {
    bar.buyVolume = bar.buyVolume.add(t.qty);
    bar.buyQuoteVolume = bar.buyQuoteVolume.add(quote);
  }
  bar.delta = bar.delta.add(signedQty);
  bar.trades += t.count;
  if (t.recovered) bar.recovered += 1;

  const last = entries[entries.length - 1];
  if (last === undefined || t.id > last.id) {
    // Common case, in-order: the running delta after this trade is the bar's delta.
    entries.push(entry);
    if (bar.delta.cmp(bar.pathHigh) > 0) bar.pathHigh = bar.delta;
    if (bar.delta.cmp(bar.pathLow) < 0) bar.pathLow = bar.delta;
    return;
  }
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.id < t.id) lo = mid + 1;
    else hi = mid;
  }
  entries.splice(lo, 0, entry);
  recomputePath(bar);
}

export function toRow(bar: Bar, market: Market, symbol: string): BarRow {
  const first = bar.entries[0]!;
  const last = bar.entries[bar.entries.length - 1]!;
  return {
    ts: bar.ts,
    market,
    symbol,
    open: first.price.toString(),
    high: bar.high.toString(),
    low: bar.low.toString(),
    close: last.price.toString(),
    volume: bar.buyVolume.add(bar.sellVolume).toString(),
    buyVolume: bar.buyVolume.toString(),
    sellVolume: bar.sellVolume.toString(),
    quoteVolume: bar.buyQuoteVolume.add(bar.sellQuoteVolume).toString(),
    buyQuoteVolume: bar.buyQuoteVolume.toString(),
    sellQuoteVolume: bar.sellQuoteVolume.toString(),
    delta: bar.delta.toString(),
    quoteDelta: bar.buyQuoteVolume.sub(bar.sellQuoteVolume).toString(),
    cvdOpen: bar.cvdOpen.toString(),
    cvdHigh: bar.cvdOpen.add(bar.pathHigh).toString(),
    cvdLow: bar.cvdOpen.add(bar.pathLow).toString(),
    cvdClose: cvdClose(bar).toString(),
    trades: bar.trades,
    aggTrades: bar.entries.length,
    firstAggId: first.id,
    lastAggId: last.id,
    missingAggIds: bar.missingAggIds,
    recovered: bar.recovered,
    final: bar.final,
  };
}
