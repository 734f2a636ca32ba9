import type { AggTrade } from '@cvd/core';
import { decodeTradeRecord } from '@cvd/schemas';

export type Decoded = { ok: true; trades: AggTrade[] } | { ok: false; reason: string; detail: string };

/**
 * One `cvd.trades.v1` record (single trade or batch) → its trades, checked by the decoder
 * and trusted from here on (the engine reads them as they are), or why it is unusable.
 * When `receivedAtMs` is given, each decoded trade's ingest receipt time is appended to it.
 */
export function decodeRecord(value: Buffer | null, receivedAtMs?: number[]): Decoded {
  if (!value || value.length === 0) return { ok: false, reason: 'empty-value', detail: 'record has no value' };
  const r = decodeTradeRecord(value);
  if (!r.ok) return { ok: false, reason: r.error.code, detail: r.error.message };
  if (receivedAtMs) for (const t of r.value) receivedAtMs.push(t.receivedAtMs);
  return { ok: true, trades: r.value };
}
