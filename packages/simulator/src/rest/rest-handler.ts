/**
 * REST market data: `aggTrades`, `exchangeInfo`, `ping`, `time` per market, with Binance's
 * weight accounting (`X-MBX-USED-WEIGHT-1M`, 429 + `Retry-After`) and error bodies
 * (`{"code":-1121,"msg":"Invalid symbol."}`). Only published trades are served, so REST never
 * knows the future; `rest-refuse` faults omit ids from answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CvdError } from '@cvd/core';
import type { FaultRegistry } from '../faults.js';
import { aggTradeRow, REST_PATHS, type MarketProtocolOptions } from '../market-profiles.js';
import type { TradeBook } from '../trade-book.js';
import type { Market, SymbolInfo } from '../types.js';
import { exchangeInfo } from './exchange-info.js';
import type { WeightMeter } from './weight.js';

export interface RestContext {
  book: TradeBook;
  faults: FaultRegistry;
  weights: WeightMeter;
  protocol(market: Market): MarketProtocolOptions;
  symbols(market: Market): readonly SymbolInfo[];
  /** Weight bucket of a market (USD-M and COIN-M share one by default). */
  bucket(market: Market): string;
  /** Counts served requests (stats). */
  onRequest(market: Market, path: string, status: number): void;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

const INT_RE = /^-?\d+$/;

/**
 * A request Binance would answer with HTTP 400 and `{code, msg}`. Thrown only inside
 * {@link handleRest} and turned into that answer; never retriable (the same query fails again).
 */
class BadRequest extends CvdError<'bad-request'> {
  constructor(
    /** Binance's numeric error code, e.g. -1121 "Invalid symbol.". */
    readonly binanceCode: number,
    msg: string,
  ) {
    super('bad-request', msg, { retriable: false });
  }
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!INT_RE.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new BadRequest(-1100, `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`);
  }
  return Number(v);
}

/** @returns false when the path is not a REST endpoint of this market. */
export function handleRest(market: Market, path: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse, ctx: RestContext): boolean {
  const paths = REST_PATHS[market];
  const known = [paths.aggTrades, paths.exchangeInfo, paths.ping, paths.time];
  if (!known.includes(path)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, { code: -1000, msg: 'Method not allowed.' });
    ctx.onRequest(market, path, 405);
    return true;
  }
  const p = ctx.protocol(market);
  const weight = path === paths.aggTrades ? p.aggTradesWeight : path === paths.exchangeInfo ? p.exchangeInfoWeight : 1;
  const charge = ctx.weights.charge(ctx.bucket(market), weight, p.restWeightLimit);
  const headers = { 'X-MBX-USED-WEIGHT-1M': String(charge.used), 'X-MBX-USED-WEIGHT': String(charge.used) };
  const reply = (status: number, body: unknown, extra: Record<string, string> = {}): true => {
    send(res, status, body, { ...headers, ...extra });
    ctx.onRequest(market, path, status);
    return true;
  };
  if (!charge.ok) {
    return reply(
      429,
      {
        code: -1003,
        msg: `Too much request weight used; current limit is ${p.restWeightLimit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
      },
      { 'Retry-After': String(charge.retryAfterSec) },
    );
  }
  try {
    if (path === paths.ping) return reply(200, {});
    if (path === paths.time) return reply(200, { serverTime: Date.now() });
    if (path === paths.exchangeInfo) {
      const wanted = query.get('symbol');
      const all = ctx.symbols(market);
      const list = wanted === null ? all : all.filter((s) => s.symbol === wanted);
      if (wanted !== null && list.length === 0) throw new BadRequest(-1121, 'Invalid symbol.');
      return reply(200, exchangeInfo(market, list, p, Date.now()));
    }
    // aggTrades
    const symbol = query.get('symbol');
    if (symbol === null || symbol === '') {
      throw new BadRequest(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    }
    if (!ctx.symbols(market).some((s) => s.symbol === symbol)) throw new BadRequest(-1121, 'Invalid symbol.');
    const fromId = intParam(query, 'fromId');
    const startTime = intParam(query, 'startTime');
    const endTime = intParam(query, 'endTime');
    const limitRaw = intParam(query, 'limit');
    if (fromId !== undefined && (startTime !== undefined || endTime !== undefined) && !p.aggTradesAllowIdWithTime) {
      throw new BadRequest(-1128, 'Combination of optional parameters invalid.');
    }
    if (startTime !== undefined && endTime !== undefined) {
      if (endTime < startTime) throw new BadRequest(-1128, 'Combination of optional parameters invalid.');
      if (p.aggTradesMaxWindowMs !== null && endTime - startTime > p.aggTradesMaxWindowMs) {
        throw new BadRequest(-1127, 'More than 1 hours between startTime and endTime.');
      }
    }
    const limit = Math.min(p.aggTradesMaxLimit, Math.max(1, limitRaw ?? p.aggTradesDefaultLimit));
    const rows = ctx.book
      .query(market, symbol, {
        limit,
        ...(fromId === undefined ? {} : { fromId }),
        ...(startTime === undefined ? {} : { startTime }),
        ...(endTime === undefined ? {} : { endTime }),
      })
      .filter((t) => !ctx.faults.restRefuses(market, symbol, t.a))
      .map(aggTradeRow);
    return reply(200, rows);
  } catch (err) {
    if (err instanceof BadRequest) return reply(400, { code: err.binanceCode, msg: err.message });
    throw err;
  }
}
