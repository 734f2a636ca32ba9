/**
 * Stream names, websocket URLs and live-subscription messages.
 *
 * Raw:      `<base><prefix>/ws/<stream>`            e.g. wss://stream.binance.com:9443/ws/btcusdt@aggTrade
 * Combined: `<base><prefix>/stream?streams=a/b`     e.g. wss://fstream.binance.com/market/stream?streams=...
 * The prefix is `/market` for USD-M (a connection on the wrong path stays silent).
 */
import { BinanceError } from './errors.js';
import type { TimeUnit } from './frames/core.js';
import { isSymbol, type Market } from '@cvd/core';
import type { MarketOverrides } from './market.js';
import { marketConfig } from './market.js';
import { lowerAscii } from './symbol.js';

/** `BTCUSDT` → `btcusdt@aggTrade`; only ASCII letters are lowercased. Throws on invalid symbols. */
export function streamName(symbol: string): string {
  if (!isSymbol(symbol)) {
    throw new BinanceError('invalid-argument', `not a valid symbol: ${JSON.stringify(symbol)}`);
  }
  return `${lowerAscii(symbol)}@aggTrade`;
}

export interface StreamUrlOptions {
  /** Origin override (a simulator, `wss://data-stream.binance.vision`). @defaultValue `MARKET_CONFIGS[market].wsBaseUrl` */
  readonly wsBaseUrl?: string;
  /** Path prefix override. @defaultValue `MARKET_CONFIGS[market].wsPathPrefix` (`/market` for USD-M) */
  readonly wsPathPrefix?: string;
  /** Ask spot for microsecond timestamps. @defaultValue 'MILLISECOND' (no parameter) */
  readonly timeUnit?: TimeUnit;
  /** @defaultValue `MARKET_CONFIGS[market].streamsPerConnection` */
  readonly streamsPerConnection?: number;
}

function prepare(market: Market, options: StreamUrlOptions): { base: string; query: string[]; max: number } {
  const overrides: MarketOverrides = {
    ...(options.wsBaseUrl === undefined ? {} : { wsBaseUrl: options.wsBaseUrl }),
    ...(options.wsPathPrefix === undefined ? {} : { wsPathPrefix: options.wsPathPrefix }),
    ...(options.streamsPerConnection === undefined ? {} : { streamsPerConnection: options.streamsPerConnection }),
  };
  const cfg = marketConfig(market, overrides);
  const query: string[] = [];
  if (options.timeUnit === 'MICROSECOND') {
    if (!cfg.supportsMicroseconds) {
      throw new BinanceError('invalid-argument', `${market} streams do not offer timeUnit=MICROSECOND`);
    }
    query.push('timeUnit=MICROSECOND');
  }
  return { base: `${cfg.wsBaseUrl}${cfg.wsPathPrefix}`, query, max: cfg.streamsPerConnection };
}

/** Percent-encodes non-ASCII (UTF-8) while keeping `@` literal, as Binance's examples do. */
function encodeStream(name: string): string {
  if (!/^[^\s/?#&=%]+$/u.test(name)) {
    throw new BinanceError('invalid-argument', `not a valid stream name: ${JSON.stringify(name)}`);
  }
  return encodeURI(name);
}

/**
 * Raw-stream URL: `/ws/<stream>`, or bare `/ws` to subscribe later with
 * {@link subscribeMessage}.
 */
export function rawStreamUrl(market: Market, stream?: string, options: StreamUrlOptions = {}): string {
  const { base, query } = prepare(market, options);
  const path = stream === undefined ? '/ws' : `/ws/${encodeStream(stream)}`;
  return query.length === 0 ? `${base}${path}` : `${base}${path}?${query.join('&')}`;
}

/** Combined-stream URL: `/stream?streams=a/b/c`; frames come wrapped as `{stream, data}`. */
export function combinedStreamUrl(market: Market, streams: readonly string[], options: StreamUrlOptions = {}): string {
  const { base, query, max } = prepare(market, options);
  if (streams.length > max) {
    throw new BinanceError('invalid-argument', `${streams.length} streams exceed ${max} per connection on ${market}`);
  }
  const q = streams.length === 0 ? query : [`streams=${streams.map(encodeStream).join('/')}`, ...query];
  return q.length === 0 ? `${base}/stream` : `${base}/stream?${q.join('&')}`;
}

export type StreamMethod = 'SUBSCRIBE' | 'UNSUBSCRIBE' | 'LIST_SUBSCRIPTIONS';

export interface StreamRequest {
  readonly method: StreamMethod;
  readonly params?: readonly string[];
  readonly id: number;
}

function requestId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new BinanceError('invalid-argument', `request id must be a safe non-negative integer, got ${id}`);
  }
  return id;
}

function streamsRequest(method: 'SUBSCRIBE' | 'UNSUBSCRIBE', streams: readonly string[], id: number): string {
  if (streams.length === 0) throw new BinanceError('invalid-argument', `${method} needs at least one stream`);
  for (const s of streams) encodeStream(s);
  const req: StreamRequest = { method, params: [...streams], id: requestId(id) };
  return JSON.stringify(req);
}

/** `{"method":"SUBSCRIBE","params":[...],"id":1}` → answered by `{"result":null,"id":1}`. */
export function subscribeMessage(streams: readonly string[], id: number): string {
  return streamsRequest('SUBSCRIBE', streams, id);
}

/** `{"method":"UNSUBSCRIBE","params":[...],"id":2}` → answered by `{"result":null,"id":2}`. */
export function unsubscribeMessage(streams: readonly string[], id: number): string {
  return streamsRequest('UNSUBSCRIBE', streams, id);
}

/** `{"method":"LIST_SUBSCRIPTIONS","id":3}` → answered by `{"result":[...],"id":3}`. */
export function listSubscriptionsMessage(id: number): string {
  const req: StreamRequest = { method: 'LIST_SUBSCRIPTIONS', id: requestId(id) };
  return JSON.stringify(req);
}
