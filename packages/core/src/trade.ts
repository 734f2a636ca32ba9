/**
 * The trade: one Binance aggTrade as it flows through the pipeline, declared once here. The
 * frame parser builds its {@link ExchangeTrade} part, ingest adds the pipeline's two fields
 * and publishes it on `cvd.trades.v1`, the aggregator decodes it and the engine reads it.
 *
 * It is checked at the two boundaries where untrusted data enters, with one check and one
 * vocabulary of problem codes ({@link checkTrade}): the websocket/REST frame parser and the
 * Avro record decoder. Inside the pipeline a value of this type is trusted.
 */
import type { Market } from './market.js';
import { isMarket, MARKETS } from './market.js';
import { isSymbol, MAX_SYMBOL_LENGTH } from './symbol.js';

export interface AggTrade {
  readonly market: Market;
  /** Exchange spelling as in aggTrade `s` (`BTCUSDT`, `ETHUSD_PERP`, `币安人生USDT`). */
  readonly symbol: string;
  /** `a`: per symbol it increases by exactly 1; gaps are detected on it alone. */
  readonly aggId: number;
  /** `p`, the exact unsigned decimal string as received. */
  readonly price: string;
  /** `q`, the exact unsigned decimal string as received (COIN-M: contracts). */
  readonly qty: string;
  /** `f`, `l`: the underlying trade ids (inclusive); the aggTrade covers `l - f + 1` trades. */
  readonly firstId: number;
  readonly lastId: number;
  /** `T`, exchange trade time in epoch ms (floored when a stream sends µs): what bars bucket by. */
  readonly tradeTimeMs: number;
  /** `E` in epoch ms; REST rows have no `E`, so there it equals `tradeTimeMs`. */
  readonly eventTimeMs: number;
  /** `m`: true when the buyer is the maker, i.e. the taker sold (negative delta). */
  readonly buyerMaker: boolean;
  /** Came from REST backfill rather than the websocket. */
  readonly recovered: boolean;
  /** Ingest wall-clock receive time (epoch ms); for latency metrics only, never bucketing. */
  readonly receivedAtMs: number;
}

/** The fields the pipeline adds to what the exchange said. */
export type PipelineField = 'recovered' | 'receivedAtMs';

/** The exchange's facts about one aggTrade (a frame or a REST row): an {@link AggTrade} without the pipeline's fields. */
export type ExchangeTrade = Omit<AggTrade, PipelineField>;

/**
 * Largest id or time a trade may carry: 2^53 − 2, the largest long avsc encodes and decodes
 * as a JS number (it keeps one value of headroom below `Number.MAX_SAFE_INTEGER`). Binance
 * ids are far below it.
 */
export const MAX_COUNT = 9_007_199_254_740_990;

/**
 * Longest price or quantity string. Binance values are under 30 characters; the cap stops a
 * hostile frame from making the engine build a megabyte BigInt.
 */
export const MAX_DECIMAL_LENGTH = 64;

const DECIMAL = /^\d+(?:\.\d+)?$/;

/** A non-negative integer that survives the trip through an Avro long as a JS number (ids, epoch ms). */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_COUNT && !Object.is(value, -0);
}

/** An unsigned plain decimal as Binance sends prices and quantities (`"0.00100000"`), at most {@link MAX_DECIMAL_LENGTH} characters. */
export function isDecimal(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_DECIMAL_LENGTH && DECIMAL.test(value);
}

/** Why a trade breaks the contract: the code to branch on (and the dead-letter `reason`). */
export const TRADE_PROBLEM_CODES = [
  /** The value is not an object. */
  'not-object',
  /** `market` is not one of {@link MARKETS}. */
  'invalid-market',
  /** `symbol` breaks the symbol rule (`isSymbol`). */
  'invalid-symbol',
  /** `aggId`/`firstId`/`lastId` is not a count (see {@link isCount}), or `firstId > lastId`. */
  'invalid-id',
  /**
   * `price`/`qty` is not an unsigned plain decimal string of at most 64 characters. Zero is
   * a valid decimal: Binance has published zero-quantity aggTrades, and refusing them is the
   * engine's rule (`zero-qty`), not the wire's, so they are never lost at a boundary.
   */
  'invalid-decimal',
  /** `tradeTimeMs`/`eventTimeMs`/`receivedAtMs` is not a count. */
  'invalid-time',
  /** Any other field of the wrong type (`buyerMaker`, `recovered` not boolean). */
  'invalid-field',
] as const;
export type TradeProblemCode = (typeof TRADE_PROBLEM_CODES)[number];

/** What is wrong with a trade: a code, the offending field and a reason for people. */
export interface TradeProblem {
  readonly code: TradeProblemCode;
  /** Undefined for `not-object`. */
  readonly field: keyof AggTrade | undefined;
  /** Starts with the field's name, then says what is wrong with the value (escaped, shortened). */
  readonly reason: string;
}

/** Short, escaped rendering of a bad value for reasons. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 24 ? `${v.slice(0, 24)}…` : v)}`;
  if (typeof v === 'number') return `number ${String(v)}`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function problem(code: TradeProblemCode, field: keyof AggTrade | undefined, reason: string): TradeProblem {
  return { code, field, reason };
}

function decimalProblem(field: 'price' | 'qty', v: unknown): TradeProblem | undefined {
  if (isDecimal(v)) return undefined;
  let why: string;
  if (typeof v !== 'string') why = `must be a decimal string, got ${showValue(v)}`;
  else if (v.length > MAX_DECIMAL_LENGTH) why = `is ${v.length} characters long, above the ${MAX_DECIMAL_LENGTH} limit`;
  else if (v.length === 0) why = 'is an empty string';
  else if (v.trimStart().startsWith('-')) why = `is negative (${showValue(v)})`;
  else if (/^\s*[+\d.]*[eE]/.test(v)) why = `uses exponent notation (${showValue(v)})`;
  else why = `is not a plain decimal of digits with an optional fraction (${showValue(v)})`;
  return problem('invalid-decimal', field, `${field} ${why}`);
}

function countProblem(code: 'invalid-id' | 'invalid-time', field: keyof AggTrade, v: unknown): TradeProblem | undefined {
  if (isCount(v)) return undefined;
  return problem(code, field, `${field} must be a safe non-negative integer (at most 2^53-2), got ${showValue(v)}`);
}

function booleanProblem(field: 'buyerMaker' | 'recovered', v: unknown): TradeProblem | undefined {
  return typeof v === 'boolean' ? undefined : problem('invalid-field', field, `${field} must be a boolean, got ${showValue(v)}`);
}

/**
 * Why `value` is not a valid {@link ExchangeTrade}, or undefined when it is one. The frame
 * parser's check (REST rows and websocket events carry no pipeline fields).
 */
export function checkExchangeTrade(value: unknown): TradeProblem | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return problem('not-object', undefined, `a trade must be an object, got ${showValue(value)}`);
  }
  const t = value as Record<keyof AggTrade, unknown>;
  if (!isMarket(t.market)) {
    return problem('invalid-market', 'market', `market must be one of ${MARKETS.join(', ')}, got ${showValue(t.market)}`);
  }
  if (!isSymbol(t.symbol)) {
    return problem(
      'invalid-symbol',
      'symbol',
      `symbol must be 1–${MAX_SYMBOL_LENGTH} characters without whitespace, control characters, quotes or any of @/?#&=%:\\, got ${showValue(t.symbol)}`,
    );
  }
  const p =
    countProblem('invalid-id', 'aggId', t.aggId) ??
    decimalProblem('price', t.price) ??
    decimalProblem('qty', t.qty) ??
    countProblem('invalid-id', 'firstId', t.firstId) ??
    countProblem('invalid-id', 'lastId', t.lastId);
  if (p !== undefined) return p;
  if ((t.firstId as number) > (t.lastId as number)) {
    return problem('invalid-id', 'firstId', `firstId is above lastId (${String(t.firstId)} > ${String(t.lastId)})`);
  }
  return (
    countProblem('invalid-time', 'tradeTimeMs', t.tradeTimeMs) ??
    countProblem('invalid-time', 'eventTimeMs', t.eventTimeMs) ??
    booleanProblem('buyerMaker', t.buyerMaker)
  );
}

/**
 * Why `value` is not a valid {@link AggTrade}, or undefined when it is one: the exchange's
 * facts ({@link checkExchangeTrade}) plus the pipeline's fields. The record codec's check,
 * on encode (a producer bug) and on decode (untrusted bytes).
 */
export function checkTrade(value: unknown): TradeProblem | undefined {
  const p = checkExchangeTrade(value);
  if (p !== undefined) return p;
  const t = value as Record<keyof AggTrade, unknown>;
  return booleanProblem('recovered', t.recovered) ?? countProblem('invalid-time', 'receivedAtMs', t.receivedAtMs);
}
