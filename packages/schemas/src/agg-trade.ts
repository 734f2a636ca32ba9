import { AGG_TRADE_BATCH_V1, AGG_TRADE_V1 } from './avro-schemas.js';
import { fail, ok, SchemaError, type DecodeResult } from './schema-error.js';
import { checkTrade, type AggTrade, type Market } from '@cvd/core';
import { decodeAvro, frame, readHeader } from './wire.js';

/** Why `t` cannot be carried: the core's trade check, as the codec's reason text. */
function problemOf(t: unknown): string | undefined {
  const p = checkTrade(t);
  return p === undefined ? undefined : `${p.code}: ${p.reason}`;
}

function assertTrade(t: AggTrade): void {
  const problem = problemOf(t);
  if (problem !== undefined) throw new SchemaError('invalid-value', `cannot encode AggTrade: ${problem}`);
}

/**
 * Encodes one trade as an `AggTrade` v1 record.
 * @throws SchemaError `invalid-value` when the trade breaks the contract (a producer bug).
 */
export function encodeTrade(trade: AggTrade): Buffer {
  assertTrade(trade);
  return frame(AGG_TRADE_V1, trade);
}

/**
 * Encodes several trades of ONE market and symbol, in the given (per-key) order, as an
 * `AggTradeBatch` v1 record.
 * @throws SchemaError `invalid-value` when empty, mixed or invalid.
 */
export function encodeTradeBatch(trades: readonly AggTrade[]): Buffer {
  const first = trades[0];
  if (first === undefined) throw new SchemaError('invalid-value', 'cannot encode an empty AggTradeBatch');
  for (const t of trades) {
    assertTrade(t);
    if (t.market !== first.market || t.symbol !== first.symbol) {
      throw new SchemaError('invalid-value', `AggTradeBatch mixes ${first.market}:${first.symbol} and ${t.market}:${t.symbol}`);
    }
  }
  return frame(AGG_TRADE_BATCH_V1, { market: first.market, symbol: first.symbol, trades });
}

type RawTrade = Omit<AggTrade, 'market' | 'symbol'>;

/**
 * The one copy at the decode boundary: avsc returns class instances (and a batch carries
 * market and symbol once), so each trade becomes a plain {@link AggTrade} here, then is
 * checked; past this point it is trusted.
 */
function toTrade(market: Market, symbol: string, r: RawTrade): AggTrade | string {
  const t: AggTrade = { ...r, market, symbol };
  return problemOf(t) ?? t;
}

/** Decodes an `AggTrade` record (any known version). Never throws. */
export function decodeTrade(bytes: Uint8Array): DecodeResult<AggTrade> {
  const r = decodeAvro(bytes, AGG_TRADE_V1.type, ['agg-trade']);
  if (!r.ok) return r;
  const raw = r.value.value as AggTrade;
  const t = toTrade(raw.market, raw.symbol, raw);
  return typeof t === 'string' ? fail('invalid-value', `AggTrade: ${t}`) : ok(t);
}

/**
 * Decodes a record of `cvd.trades.v1`, single or batch, into its trades in order.
 * One bad trade rejects the whole record (it is dead-lettered as a unit). Never throws.
 */
export function decodeTradeRecord(bytes: Uint8Array): DecodeResult<AggTrade[]> {
  const header = readHeader(bytes);
  if (!header.ok) return header;
  if (header.value.kind === 'agg-trade') {
    const single = decodeTrade(bytes);
    return single.ok ? ok([single.value]) : single;
  }
  const r = decodeAvro(bytes, AGG_TRADE_BATCH_V1.type, ['agg-trade-batch']);
  if (!r.ok) return r;
  const batch = r.value.value as { market: Market; symbol: string; trades: RawTrade[] };
  const out: AggTrade[] = new Array<AggTrade>(batch.trades.length);
  for (let i = 0; i < batch.trades.length; i++) {
    const t = toTrade(batch.market, batch.symbol, batch.trades[i] as RawTrade);
    if (typeof t === 'string') return fail('invalid-value', `AggTradeBatch trade #${i}: ${t}`);
    out[i] = t;
  }
  return ok(out);
}
