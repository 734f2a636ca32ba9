/**
 * The three Binance markets and their connection/REST facts.
 *
 * Every number here is what Binance documented as of mid-2026; Binance changes them (the
 * USD-M `/market` routing arrived on 2026-04-23, the shared futures weight budget on
 * 2026-06-30), so all of them are defaults that {@link marketConfig} lets callers override.
 */
import type { Market } from '@cvd/core';

/**
 * Requests of markets in the same pool spend one IP weight budget. USD-M and COIN-M share
 * theirs since 2026-06-30.
 */
export type WeightPool = 'spot' | 'futures';

export interface MarketConfig {
  readonly market: Market;
  /** Websocket origin, no trailing slash. */
  readonly wsBaseUrl: string;
  /**
   * Path prefix in front of `/ws` and `/stream`. USD-M routes aggTrade under `/market`; a
   * connection on the wrong path receives nothing and reports no error.
   */
  readonly wsPathPrefix: string;
  /** Whether streams accept `timeUnit=MICROSECOND` (spot only). */
  readonly supportsMicroseconds: boolean;
  /** REST origin, no trailing slash. */
  readonly restBaseUrl: string;
  readonly aggTradesPath: string;
  readonly exchangeInfoPath: string;
  /** Request weight per call. */
  readonly weights: { readonly aggTrades: number; readonly exchangeInfo: number };
  /** Most rows one aggTrades call returns. */
  readonly aggTradesMaxLimit: number;
  readonly weightPool: WeightPool;
  /** Binance's IP weight limit per minute (a fact, for metrics and alerts). */
  readonly weightLimitPerMinute: number;
  /** What this client allows itself per minute; it waits rather than exceed it. */
  readonly weightBudgetPerMinute: number;
  readonly streamsPerConnection: number;
  /** Client→server websocket messages per second, pongs and SUBSCRIBE included. */
  readonly clientMessagesPerSecond: number;
  /** Server ping cadence. */
  readonly pingIntervalMs: number;
  /** The server drops the connection when no pong arrives within this. */
  readonly pongDeadlineMs: number;
  /** The server closes every connection after this long. */
  readonly forcedDisconnectMs: number;
  /** New websocket connections per IP per 5 minutes, where documented. */
  readonly connectionsPer5Min: number | undefined;
  /** Official documentation of the aggTrade stream. */
  readonly docUrl: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The documented facts of each market (the markets themselves are the core's `MARKETS`). */
export const MARKET_CONFIGS: Readonly<Record<Market, MarketConfig>> = Object.freeze({
  spot: Object.freeze({
    market: 'spot',
    wsBaseUrl: 'wss://stream.binance.com:9443',
    wsPathPrefix: '',
    supportsMicroseconds: true,
    restBaseUrl: 'https://api.binance.com',
    aggTradesPath: '/api/v3/aggTrades',
    exchangeInfoPath: '/api/v3/exchangeInfo',
    weights: Object.freeze({ aggTrades: 4, exchangeInfo: 20 }),
    aggTradesMaxLimit: 1000,
    weightPool: 'spot',
    weightLimitPerMinute: 6000,
    weightBudgetPerMinute: 4800,
    streamsPerConnection: 1024,
    clientMessagesPerSecond: 5,
    pingIntervalMs: 20_000,
    pongDeadlineMs: 60_000,
    forcedDisconnectMs: DAY_MS,
    connectionsPer5Min: 300,
    docUrl:
      'https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#aggregate-trade-streams',
  }),
  usdm: Object.freeze({
    market: 'usdm',
    wsBaseUrl: 'wss://fstream.binance.com',
    wsPathPrefix: '/market',
    supportsMicroseconds: false,
    restBaseUrl: 'https://fapi.binance.com',
    aggTradesPath: '/fapi/v1/aggTrades',
    exchangeInfoPath: '/fapi/v1/exchangeInfo',
    weights: Object.freeze({ aggTrades: 20, exchangeInfo: 1 }),
    aggTradesMaxLimit: 1000,
    weightPool: 'futures',
    weightLimitPerMinute: 2400,
    weightBudgetPerMinute: 1920,
    streamsPerConnection: 1024,
    clientMessagesPerSecond: 10,
    pingIntervalMs: 180_000,
    pongDeadlineMs: 600_000,
    forcedDisconnectMs: DAY_MS,
    connectionsPer5Min: undefined,
    docUrl:
      'https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Aggregate-Trade-Streams',
  }),
  coinm: Object.freeze({
    market: 'coinm',
    wsBaseUrl: 'wss://dstream.binance.com',
    wsPathPrefix: '',
    supportsMicroseconds: false,
    restBaseUrl: 'https://dapi.binance.com',
    aggTradesPath: '/dapi/v1/aggTrades',
    exchangeInfoPath: '/dapi/v1/exchangeInfo',
    weights: Object.freeze({ aggTrades: 20, exchangeInfo: 1 }),
    aggTradesMaxLimit: 1000,
    weightPool: 'futures',
    weightLimitPerMinute: 2400,
    weightBudgetPerMinute: 1920,
    streamsPerConnection: 1024,
    clientMessagesPerSecond: 10,
    pingIntervalMs: 180_000,
    pongDeadlineMs: 600_000,
    forcedDisconnectMs: DAY_MS,
    connectionsPer5Min: undefined,
    docUrl:
      'https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams/Aggregate-Trade-Streams',
  }),
});

/** Overrides for one market; `weights` may be given partially. */
export type MarketOverrides = Partial<Omit<MarketConfig, 'market' | 'weights'>> & {
  readonly weights?: Partial<MarketConfig['weights']>;
};

/** The defaults of `market` with `overrides` applied (trailing slashes of URLs removed). */
export function marketConfig(market: Market, overrides: MarketOverrides = {}): MarketConfig {
  const base = MARKET_CONFIGS[market];
  const merged: MarketConfig = {
    ...base,
    ...stripUndefined(overrides),
    market,
    weights: { ...base.weights, ...stripUndefined(overrides.weights ?? {}) },
  };
  return {
    ...merged,
    wsBaseUrl: trimSlash(merged.wsBaseUrl),
    restBaseUrl: trimSlash(merged.restBaseUrl),
    wsPathPrefix: trimSlash(merged.wsPathPrefix),
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
