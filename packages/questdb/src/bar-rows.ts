import type { BarRow } from '@cvd/engine';

/**
 * An engine bar as QuestDB's `/exec` returns the written row (DOUBLE columns as the nearest
 * doubles, the designated timestamp in microsecond ISO form) — every column but `updated_at`.
 * Tests compare whole tables with it.
 */
export function barAsTableRow(r: BarRow): Record<string, unknown> {
  return {
    ts: new Date(r.ts).toISOString().replace('Z', '000Z'),
    market: r.market, symbol: r.symbol,
    open: Number(r.open), high: Number(r.high), low: Number(r.low), close: Number(r.close),
    volume: Number(r.volume), buy_volume: Number(r.buyVolume), sell_volume: Number(r.sellVolume),
    quote_volume: Number(r.quoteVolume), buy_quote_volume: Number(r.buyQuoteVolume), sell_quote_volume: Number(r.sellQuoteVolume),
    delta: Number(r.delta), quote_delta: Number(r.quoteDelta),
    cvd_open: Number(r.cvdOpen), cvd_high: Number(r.cvdHigh), cvd_low: Number(r.cvdLow), cvd_close: Number(r.cvdClose),
    trades: r.trades, agg_trades: r.aggTrades, first_agg_id: r.firstAggId, last_agg_id: r.lastAggId,
    missing_agg_ids: r.missingAggIds, recovered: r.recovered, final: r.final,
    delta_exact: r.delta, cvd_close_exact: r.cvdClose,
  };
}

/** The columns `barAsTableRow` fills, in table order: every column but `updated_at`. */
export const BAR_VALUE_COLUMNS = [
  'ts', 'market', 'symbol', 'open', 'high', 'low', 'close', 'volume', 'buy_volume', 'sell_volume',
  'quote_volume', 'buy_quote_volume', 'sell_quote_volume', 'delta', 'quote_delta',
  'cvd_open', 'cvd_high', 'cvd_low', 'cvd_close', 'trades', 'agg_trades', 'first_agg_id', 'last_agg_id',
  'missing_agg_ids', 'recovered', 'final', 'delta_exact', 'cvd_close_exact',
] as const;
