import { applyBatch, createState, type BarRow, type EngineTrade } from '@cvd/engine';
import type { Simulator } from '@cvd/simulator';

export const MINUTE = 60_000;

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
  const trades: EngineTrade[] = [];
  for (const t of truth.all()) {
    if (exclude(t.market, t.symbol) || lost.get(`${t.market}:${t.symbol}`)?.has(t.a)) continue;
    trades.push({ market: t.market, symbol: t.symbol, aggId: t.a, price: t.p, qty: t.q, firstId: t.f, lastId: t.l, tradeTimeMs: t.T, buyerMaker: t.m, recovered: false });
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
export const COMPARED = [
  'ts', 'market', 'symbol', 'open', 'high', 'low', 'close', 'volume', 'buy_volume', 'sell_volume',
  'quote_volume', 'buy_quote_volume', 'sell_quote_volume', 'delta', 'quote_delta',
  'cvd_open', 'cvd_high', 'cvd_low', 'cvd_close', 'trades', 'agg_trades', 'first_agg_id', 'last_agg_id',
  'missing_agg_ids', 'final', 'delta_exact', 'cvd_close_exact',
] as const;

export function asTableRow(r: BarRow): Record<string, unknown> {
  return {
    ts: new Date(r.ts).toISOString().replace('Z', '000Z'),
    market: r.market, symbol: r.symbol,
    open: Number(r.open), high: Number(r.high), low: Number(r.low), close: Number(r.close),
    volume: Number(r.volume), buy_volume: Number(r.buyVolume), sell_volume: Number(r.sellVolume),
    quote_volume: Number(r.quoteVolume), buy_quote_volume: Number(r.buyQuoteVolume), sell_quote_volume: Number(r.sellQuoteVolume),
    delta: Number(r.delta), quote_delta: Number(r.quoteDelta),
    cvd_open: Number(r.cvdOpen), cvd_high: Number(r.cvdHigh), cvd_low: Number(r.cvdLow), cvd_close: Number(r.cvdClose),
    trades: r.trades, agg_trades: r.aggTrades, first_agg_id: r.firstAggId, last_agg_id: r.lastAggId,
    missing_agg_ids: r.missingAggIds, final: r.final,
    delta_exact: r.delta, cvd_close_exact: r.cvdClose,
  };
}
