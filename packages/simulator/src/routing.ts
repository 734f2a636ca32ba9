/**
 * URL routing: which market a request is for (a `/spot`, `/usdm`, `/coinm` prefix on the
 * shared server, none on a market's own port) and which websocket paths exist per market.
 * Pure functions of the URL, so the Binance path rules are testable without a socket.
 */
import { isMarket, type Market } from './types.js';

export interface WsRoute {
  /** The path accepts connections but never sends data (USD-M outside `/market`). */
  deaf: boolean;
  /** `/stream` (combined frames `{stream,data}`) rather than `/ws` (raw events). */
  combined: boolean;
  /** Streams subscribed by the URL itself. */
  streams: string[];
}

/** Which websocket paths exist per market (path without the market prefix). */
export function wsRoute(market: Market, path: string, query: URLSearchParams): WsRoute | undefined {
  let p = path;
  let deaf = false;
  if (market === 'usdm') {
    // Since 2026-04-23 aggTrade is only under /market; other paths accept and stay silent.
    const m = /^\/(market|public|private)(\/.*)$/.exec(p);
    if (m !== null) {
      deaf = m[1] !== 'market';
      p = m[2] as string;
    } else {
      deaf = true;
    }
  }
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if (p === '/ws' || p === '/ws/') return { deaf, combined: false, streams: [] };
  if (p.startsWith('/ws/')) {
    return { deaf, combined: false, streams: p.slice(4).split('/').filter((s) => s !== '').map(decode) };
  }
  if (p === '/stream' || p === '/stream/') {
    const s = query.get('streams');
    return { deaf, combined: true, streams: s === null ? [] : s.split('/').filter((x) => x !== '') };
  }
  return undefined;
}

/**
 * The market and the market-relative path of a request: `bound` on a market's own port,
 * else the first path segment (`/usdm/fapi/v1/...` → `usdm`, `/fapi/v1/...`).
 */
export function splitMarketPath(bound: Market | undefined, pathname: string): { market: Market; path: string } | undefined {
  if (bound !== undefined) return { market: bound, path: pathname };
  const m = /^\/([a-z]+)(\/.*)?$/.exec(pathname);
  if (m === null || !isMarket(m[1])) return undefined;
  return { market: m[1], path: m[2] ?? '/' };
}
