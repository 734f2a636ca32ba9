import { decodeTradeRecord, type AggTrade } from '@cvd/schemas';
import type { EngineTrade } from '@cvd/engine';

export type Decoded = { ok: true; trades: EngineTrade[] } | { ok: false; reason: string; detail: string };

/**
 * One `cvd.trades.v1` record (single trade or batch) → engine trades, or why it is unusable.
 * When `receivedAtMs` is given, each decoded trade's ingest receipt time is appended to it.
 */
export function decodeRecord(value: Buffer | null, receivedAtMs?: number[]): Decoded {
  if (!value || value.length === 0) return { ok: false, reason: 'empty-value', detail: 'record has no value' };
  const r = decodeTradeRecord(value);
  if (!r.ok) return { ok: false, reason: r.error.code, detail: r.error.message };
  if (receivedAtMs) for (const t of r.value) receivedAtMs.push(t.receivedAtMs);
  return { ok: true, trades: r.value.map(toEngineTrade) };
}

export function toEngineTrade(t: AggTrade): EngineTrade {
  return {
    market: t.market,
    symbol: t.symbol,
    aggId: t.aggId,
    price: t.price,
    qty: t.qty,
    firstId: t.firstId,
    lastId: t.lastId,
    tradeTimeMs: t.tradeTimeMs,
    buyerMaker: t.buyerMaker,
    recovered: t.recovered,
  };
}
