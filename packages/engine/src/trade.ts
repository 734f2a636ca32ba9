/** The engine's input record and its validation. */
import { parseDecimal, type Decimal } from './decimal.js';
import { minuteOf } from './options.js';

export const MARKETS = ['spot', 'usdm', 'coinm'] as const;
export type Market = (typeof MARKETS)[number];

/** One Binance aggTrade, already decoded (the engine validates it again). */
export interface EngineTrade {
  readonly market: Market;
  readonly symbol: string;
  /** Binance `a`; increases by exactly 1 per trade of a symbol. */
  readonly aggId: number;
  /** Binance `p`, decimal string. */
  readonly price: string;
  /** Binance `q`, decimal string (COIN-M: contracts). */
  readonly qty: string;
  /** Binance `f`, `l`: underlying trade ids; the aggTrade covers `l - f + 1` trades. */
  readonly firstId: number;
  readonly lastId: number;
  /** Binance `T`: exchange trade time, integer ms since the epoch. */
  readonly tradeTimeMs: number;
  /** Binance `m`: true => taker SELL (-q), false => taker BUY (+q). */
  readonly buyerMaker: boolean;
  /** The trade came from REST backfill rather than the websocket. */
  readonly recovered: boolean;
}

/** Why a trade failed validation (dead-letter reason). */
export const INVALID_TRADE_REASONS = [
  'not-an-object',
  'invalid-market',
  'invalid-symbol',
  'invalid-agg-id',
  'invalid-trade-ids',
  'invalid-trade-time',
  'invalid-buyer-maker',
  'invalid-recovered',
  'invalid-price',
  'invalid-qty',
] as const;
export type InvalidTradeReason = (typeof INVALID_TRADE_REASONS)[number];

/** Validated, parsed form of a trade. */
export interface ParsedTrade {
  readonly key: string;
  readonly market: Market;
  readonly symbol: string;
  readonly aggId: number;
  readonly price: Decimal;
  readonly qty: Decimal;
  /** `l - f + 1` */
  readonly count: number;
  readonly minute: number;
  readonly buyerMaker: boolean;
  readonly recovered: boolean;
}

export type TradeValidation =
  | { readonly ok: true; readonly trade: ParsedTrade }
  | { readonly ok: false; readonly reason: InvalidTradeReason; readonly detail: string };

/**
 * Exchange symbols: `BTCUSDT`, `BTCUSD_PERP`, `1000SHIBUSDT`, `币安人生USDT`… — non-ASCII is
 * allowed (Binance lists such symbols); never `:` (the key separator), whitespace, quotes or
 * control characters. Same rule as `isSymbol` in @cvd/schemas.
 */
// eslint-disable-next-line no-control-regex
const SYMBOL = /^[^\s:"'`\u0000-\u001f\u007f\ufffd]{1,64}$/u;

/** `market:SYMBOL`, the Kafka key and the engine's per-symbol key. */
export function symbolKey(market: Market, symbol: string): string {
  return `${market}:${symbol}`;
}

function isMarket(value: unknown): value is Market {
  return value === 'spot' || value === 'usdm' || value === 'coinm';
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function fail(reason: InvalidTradeReason, detail: string): TradeValidation {
  return { ok: false, reason, detail };
}

/**
 * Validates a trade. Ids are non-negative safe integers (Binance numbers a new listing's first
 * aggTrade 0); `lastId >= firstId`; the time is a non-negative safe integer; price and qty are
 * strict unsigned decimals and strictly positive.
 */
export function validateTrade(input: unknown): TradeValidation {
  if (typeof input !== 'object' || input === null) return fail('not-an-object', typeof input);
  const t = input as Record<string, unknown>;
  if (!isMarket(t.market)) return fail('invalid-market', String(t.market));
  if (typeof t.symbol !== 'string' || !SYMBOL.test(t.symbol)) return fail('invalid-symbol', String(t.symbol));
  if (!isId(t.aggId)) return fail('invalid-agg-id', String(t.aggId));
  if (!isId(t.firstId) || !isId(t.lastId) || t.lastId < t.firstId) {
    return fail('invalid-trade-ids', `f=${String(t.firstId)} l=${String(t.lastId)}`);
  }
  const time = t.tradeTimeMs;
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) {
    return fail('invalid-trade-time', String(time));
  }
  if (typeof t.buyerMaker !== 'boolean') return fail('invalid-buyer-maker', String(t.buyerMaker));
  if (typeof t.recovered !== 'boolean') return fail('invalid-recovered', String(t.recovered));
  const price = parseDecimal(t.price);
  if (!price.ok) return fail('invalid-price', price.error);
  if (price.value.isZero()) return fail('invalid-price', 'zero');
  const qty = parseDecimal(t.qty);
  if (!qty.ok) return fail('invalid-qty', qty.error);
  if (qty.value.isZero()) return fail('invalid-qty', 'zero');
  return {
    ok: true,
    trade: {
      key: symbolKey(t.market, t.symbol),
      market: t.market,
      symbol: t.symbol,
      aggId: t.aggId,
      price: price.value,
      qty: qty.value,
      count: t.lastId - t.firstId + 1,
      minute: minuteOf(time),
      buyerMaker: t.buyerMaker,
      recovered: t.recovered,
    },
  };
}
