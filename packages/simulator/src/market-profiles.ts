/**
 * Per-market protocol limits and the aggTrade wire format.
 * Facts: binance-spot-api-docs web-socket-streams.md and rest-api.md; USD-M / COIN-M
 * "Websocket Market Streams" and "Compressed/Aggregate Trades List" pages (2025-26 fields
 * `nq` and `st`). Every number is configuration with Binance's value as the default.
 */
import type { Market, SimTrade } from './types.js';

export interface MarketProtocolOptions {
  /** Server ping cadence. @defaultValue spot 20 000 ms, futures 180 000 ms */
  pingIntervalMs: number;
  /** Close when a ping stays unanswered this long. @defaultValue spot 60 000 ms, futures 600 000 ms */
  pongTimeoutMs: number;
  /** Streams per connection; subscribing beyond it disconnects. @defaultValue 1024 */
  maxStreamsPerConnection: number;
  /** Client messages (text, ping, pong) per second; exceeding disconnects. @defaultValue spot 5, futures 10 */
  maxMessagesPerSecond: number;
  /** Forced disconnect after this long. @defaultValue 86 400 000 ms (24 h) */
  connectionLifetimeMs: number;
  /** A non-`fast` consumer whose send buffer exceeds this is dropped. @defaultValue 64 MiB */
  maxBufferedBytes: number;
  /** Futures frames carry `st` (1 USD-M, 2 COIN-M). @defaultValue true */
  sourceTypeField: boolean;
  /** REST weight budget per window for this market. @defaultValue spot 6000, futures 2400 */
  restWeightLimit: number;
  /** Weight of one `aggTrades` call. @defaultValue spot 4, futures 20 */
  aggTradesWeight: number;
  /** Weight of one `exchangeInfo` call. @defaultValue spot 20, futures 1 */
  exchangeInfoWeight: number;
  /** `aggTrades` default `limit`. @defaultValue 500 */
  aggTradesDefaultLimit: number;
  /** `aggTrades` max `limit` (larger values are clamped). @defaultValue 1000 */
  aggTradesMaxLimit: number;
  /** Max `endTime - startTime`; `null` = unlimited. @defaultValue spot null, futures 3 600 000 ms */
  aggTradesMaxWindowMs: number | null;
  /** Whether `fromId` may be combined with `startTime`/`endTime`. @defaultValue spot true, futures false */
  aggTradesAllowIdWithTime: boolean;
}

const SPOT: MarketProtocolOptions = {
  pingIntervalMs: 20_000,
  pongTimeoutMs: 60_000,
  maxStreamsPerConnection: 1024,
  maxMessagesPerSecond: 5,
  connectionLifetimeMs: 86_400_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  sourceTypeField: true,
  restWeightLimit: 6000,
  aggTradesWeight: 4,
  exchangeInfoWeight: 20,
  aggTradesDefaultLimit: 500,
  aggTradesMaxLimit: 1000,
  aggTradesMaxWindowMs: null,
  aggTradesAllowIdWithTime: true,
};

const FUTURES: MarketProtocolOptions = {
  ...SPOT,
  pingIntervalMs: 180_000,
  pongTimeoutMs: 600_000,
  maxMessagesPerSecond: 10,
  restWeightLimit: 2400,
  aggTradesWeight: 20,
  exchangeInfoWeight: 1,
  aggTradesMaxWindowMs: 3_600_000,
  aggTradesAllowIdWithTime: false,
};

export const DEFAULT_MARKET_PROTOCOL: Readonly<Record<Market, Readonly<MarketProtocolOptions>>> = {
  spot: SPOT,
  usdm: FUTURES,
  coinm: FUTURES,
};

export interface RestPaths {
  aggTrades: string;
  exchangeInfo: string;
  ping: string;
  time: string;
}

export const REST_PATHS: Readonly<Record<Market, RestPaths>> = {
  spot: { aggTrades: '/api/v3/aggTrades', exchangeInfo: '/api/v3/exchangeInfo', ping: '/api/v3/ping', time: '/api/v3/time' },
  usdm: { aggTrades: '/fapi/v1/aggTrades', exchangeInfo: '/fapi/v1/exchangeInfo', ping: '/fapi/v1/ping', time: '/fapi/v1/time' },
  coinm: { aggTrades: '/dapi/v1/aggTrades', exchangeInfo: '/dapi/v1/exchangeInfo', ping: '/dapi/v1/ping', time: '/dapi/v1/time' },
};

export interface FrameFormat {
  /** Spot `timeUnit=MICROSECOND`: `E` and `T` in µs. */
  micro: boolean;
  sourceTypeField: boolean;
}

/** The aggTrade event exactly as the market sends it (raw stream payload). */
export function aggTradeEvent(t: SimTrade, fmt: FrameFormat): Record<string, unknown> {
  switch (t.market) {
    case 'spot':
      return {
        e: 'aggTrade',
        E: fmt.micro ? t.E * 1000 : t.E,
        s: t.symbol,
        a: t.a,
        p: t.p,
        q: t.q,
        f: t.f,
        l: t.l,
        T: fmt.micro ? t.Tus : t.T,
        m: t.m,
        M: t.M,
      };
    case 'usdm': {
      const e: Record<string, unknown> = {
        e: 'aggTrade',
        E: t.E,
        s: t.symbol,
        a: t.a,
        p: t.p,
        q: t.q,
        nq: t.nq ?? t.q,
        f: t.f,
        l: t.l,
        T: t.T,
        m: t.m,
      };
      if (fmt.sourceTypeField) e['st'] = 1;
      return e;
    }
    case 'coinm': {
      const e: Record<string, unknown> = {
        e: 'aggTrade',
        E: t.E,
        s: t.symbol,
        a: t.a,
        p: t.p,
        q: t.q,
        f: t.f,
        l: t.l,
        T: t.T,
        m: t.m,
      };
      if (fmt.sourceTypeField) e['st'] = 2;
      return e;
    }
  }
}

/** A REST `aggTrades` row: `{a,p,q,f,l,T,m}` (+`M` on spot). */
export function aggTradeRow(t: SimTrade): Record<string, unknown> {
  const row: Record<string, unknown> = { a: t.a, p: t.p, q: t.q, f: t.f, l: t.l, T: t.T, m: t.m };
  if (t.market === 'spot') row['M'] = t.M;
  return row;
}
