import type { AggTrade } from '@cvd/core';
import { applyBatch, createState, type BarRow, type EngineTrade } from '@cvd/engine';
import type { SimTrade, Simulator } from '@cvd/simulator';
import { BAR_VALUE_COLUMNS, barAsTableRow } from '@cvd/questdb';

export const MINUTE = 60_000;

/**
 * A simulator ground-truth trade (Binance's field names) as the pipeline's trade: what ingest
 * would publish for it off the websocket. The one such mapping (the bench uses it too).
 */
export function simTradeToAggTrade(t: SimTrade, receivedAtMs: number = t.E): AggTrade {
  return { market: t.market, symbol: t.symbol, aggId: t.a, price: t.p, qty: t.q, firstId: t.f, lastId: t.l, tradeTimeMs: t.T, eventTimeMs: t.E, buyerMaker: t.m, recovered: false, receivedAtMs };
}

/**
 * The bars a correct pipeline writes for what the simulator published: every published trade
 * except those it made unrecoverable (withheld on the websocket and refused by REST), computed
 * by the pure engine in one batch and finalised. The engine itself is property-tested against
 * an independent reference; here it is the oracle for the whole distributed pipeline.
 */
export function expectedFromSimulator(sim: Simulator, graceMs: number, exclude: (market: string, symbol: string) => boolean = () => false): BarRow[] {
  const truth = sim.groundTruth();
  const lost = new Map<string, Set<number>>();
  for (const { market, symbol } of truth.symbols()) lost.set(`${market}:${symbol}`, new Set(truth.unrecoverable(market, symbol)));
  const trades: AggTrade[] = [];
  for (const t of truth.all()) {
    if (exclude(t.market, t.symbol) || lost.get(`${t.market}:${t.symbol}`)?.has(t.a)) continue;
    trades.push(simTradeToAggTrade(t));
  }
  return expectedBars(trades, graceMs);
}

/** Final bars of a trade set (recovered counts are compared separately: they depend on the path). */
export function expectedBars(trades: readonly EngineTrade[], graceMs: number): BarRow[] {
  const state = createState({ graceMs, horizonMs: 24 * 60 * MINUTE });
  const latest = new Map<string, BarRow>();
  let max = 0;
  for (const t of trades) if (t.tradeTimeMs > max) max = t.tradeTimeMs;
  for (const r of [applyBatch(state, trades, max), applyBatch(state, [], max + 10 * MINUTE)]) {
    for (const row of r.upserts) latest.set(`${row.ts}|${row.market}|${row.symbol}`, row);
  }
  return [...latest.values()].sort((a, b) => a.market.localeCompare(b.market) || a.symbol.localeCompare(b.symbol) || a.ts - b.ts);
}

/** Columns compared value for value (all but `updated_at`; `recovered` depends on the path taken). */
export const COMPARED = BAR_VALUE_COLUMNS.filter((c) => c !== 'recovered');

export function asTableRow(r: BarRow): Record<string, unknown> {
  const { recovered: _pathDependent, ...row } = barAsTableRow(r);
  return row;
}

/**
 * The expected bars of a long run, computed as trades are published instead of in one batch at
 * the end (a soak publishes millions): the same engine, fed in publish order, holding only the
 * revision horizon. The engine is batch-independent (property-tested), so the result equals
 * {@link expectedBars} of all trades fed. Feed trades whose times lag the newest fed trade by at
 * most `lagMs` (default 2 minutes); older ones would fall out of the horizon and are refused.
 */
export class IncrementalExpected {
  private readonly state;
  private readonly latest = new Map<string, BarRow>();
  private maxT = Number.NEGATIVE_INFINITY;
  private fed = 0;

  constructor(private readonly graceMs: number, private readonly lagMs = 2 * MINUTE) {
    this.state = createState({ graceMs, horizonMs: lagMs + 5 * MINUTE });
  }

  /** Trades fed so far. */
  get trades(): number {
    return this.fed;
  }

  feed(trades: readonly EngineTrade[]): void {
    if (trades.length === 0) return;
    for (const t of trades) if (t.tradeTimeMs > this.maxT) this.maxT = t.tradeTimeMs;
    const r = applyBatch(this.state, trades, this.maxT - this.lagMs);
    if (r.rejected.length > 0) {
      const first = r.rejected[0]!;
      throw new Error(`IncrementalExpected: ${r.rejected.length} trade(s) refused (${first.reason}: ${first.detail}); feed trades within ${this.lagMs} ms of the newest`);
    }
    this.fed += trades.length;
    this.keep(r.upserts);
  }

  /** Every bar, final, sorted by market, symbol, ts (call once, after the last feed). */
  finish(): BarRow[] {
    if (Number.isFinite(this.maxT)) this.keep(applyBatch(this.state, [], this.maxT + 10 * MINUTE + this.graceMs).upserts);
    return [...this.latest.values()].sort((a, b) => a.market.localeCompare(b.market) || a.symbol.localeCompare(b.symbol) || a.ts - b.ts);
  }

  private keep(rows: readonly BarRow[]): void {
    for (const row of rows) this.latest.set(`${row.ts}|${row.market}|${row.symbol}`, row);
  }
}
