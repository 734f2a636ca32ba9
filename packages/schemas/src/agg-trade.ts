import { AGG_TRADE_BATCH_V1, AGG_TRADE_V1 } from './avro-schemas.js';
import { fail, ok, SchemaError, type DecodeResult } from './schema-error.js';
import { isCount, isDecimal, isMarket, isSymbol, type Market } from './values.js';
import { decodeAvro, frame, readHeader } from './wire.js';

/**
 * One Binance aggTrade as carried on `cvd.trades.v1`. Longs are JS numbers (all safe
 * integers); price and qty stay decimal strings so no precision is lost in transit.
 */
export interface AggTrade {
  readonly market: Market;
  /** Exchange spelling, non-ASCII allowed. */
  readonly symbol: string;
  readonly aggId: number;
  /** Unsigned decimal string, exactly as received. */
  readonly price: string;
  /** Unsigned decimal string, exactly as received (COIN-M: contracts). */
  readonly qty: string;
  readonly firstId: number;
  readonly lastId: number;
  /** Exchange trade time T (epoch ms): what bars bucket by. */
  readonly tradeTimeMs: number;
  readonly eventTimeMs: number;
  /** `m`: true when the buyer is the maker, i.e. the taker sold (negative delta). */
  readonly buyerMaker: boolean;
  /** Came from REST backfill rather than the websocket. */
  readonly recovered: boolean;
  /** Ingest wall-clock receive time (epoch ms); for latency metrics only, never bucketing. */
  readonly receivedAtMs: number;
}

/** The exchange's facts about one aggTrade: an {@link AggTrade} without the pipeline's fields. */
export type ExchangeAggTrade = Omit<AggTrade, 'recovered' | 'receivedAtMs'>;

/**
 * Builds the record from a parsed trade (websocket, REST or dump), copying only the schema's
 * fields so parser-specific extras never leak into the Avro encoder.
 */
export function toAggTrade(t: ExchangeAggTrade, meta: { recovered: boolean; receivedAtMs: number }): AggTrade {
  return {
    market: t.market,
    symbol: t.symbol,
    aggId: t.aggId,
    price: t.price,
    qty: t.qty,
    firstId: t.firstId,
    lastId: t.lastId,
    tradeTimeMs: t.tradeTimeMs,
    eventTimeMs: t.eventTimeMs,
    buyerMaker: t.buyerMaker,
    recovered: meta.recovered,
    receivedAtMs: meta.receivedAtMs,
  };
}

/** Why a trade breaks the contract, or undefined when it is fine. */
export function checkTrade(t: AggTrade): string | undefined {
  if (typeof t !== 'object' || t === null) return 'not an object';
  if (!isMarket(t.market)) return `unknown market ${JSON.stringify(t.market)}`;
  if (!isSymbol(t.symbol)) return `invalid symbol ${JSON.stringify(t.symbol)}`;
  for (const f of ['aggId', 'firstId', 'lastId', 'tradeTimeMs', 'eventTimeMs', 'receivedAtMs'] as const) {
    if (!isCount(t[f])) return `${f} must be an integer in [0, 2^53-2], got ${String(t[f])}`;
  }
  if (t.firstId > t.lastId) return `firstId ${t.firstId} > lastId ${t.lastId}`;
  if (!isDecimal(t.price)) return `price ${JSON.stringify(t.price)} is not a decimal string`;
  if (!isDecimal(t.qty)) return `qty ${JSON.stringify(t.qty)} is not a decimal string`;
  if (typeof t.buyerMaker !== 'boolean') return 'buyerMaker must be a boolean';
  if (typeof t.recovered !== 'boolean') return 'recovered must be a boolean';
  return undefined;
}

function assertTrade(t: AggTrade): void {
  const problem = checkTrade(t);
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

/** Copies into a plain object (avsc returns class instances) and validates. */
function toTrade(market: Market, symbol: string, r: RawTrade): AggTrade | string {
  const t: AggTrade = {
    market,
    symbol,
    aggId: r.aggId,
    price: r.price,
    qty: r.qty,
    firstId: r.firstId,
    lastId: r.lastId,
    tradeTimeMs: r.tradeTimeMs,
    eventTimeMs: r.eventTimeMs,
    buyerMaker: r.buyerMaker,
    recovered: r.recovered,
    receivedAtMs: r.receivedAtMs,
  };
  return checkTrade(t) ?? t;
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
