/**
 * A small Binance market-data REST client: aggTrades, exchangeInfo and id-range backfill.
 *
 * It keeps each weight pool under its per-minute budget (waiting rather than exceeding it),
 * honours 429 `Retry-After` with bounded retries, and stops calling at all after a 418 IP ban
 * until the ban ends. `fetch`, the clock and `sleep` are injected so tests run on loopback
 * with a fake clock.
 * Docs: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits
 */
import { Backoff, retry, sleep } from '@cvd/core';
import { BinanceError } from '../errors.js';
import type { FrameTrade, TimeUnit } from '../frames/core.js';
import { isFrameError, parseRestAggTrade } from '../frames/core.js';
import { isSymbol, MARKETS, type Market } from '@cvd/core';
import type { MarketConfig, MarketOverrides } from '../market.js';
import { marketConfig } from '../market.js';
import type { BackfillRequest, BackfillResult } from './backfill.js';
import { backfillAggTrades } from './backfill.js';
import type { SymbolInfo } from './exchange-info.js';
import { parseExchangeInfo } from './exchange-info.js';
import type { Clock, WeightUsage } from './weight-limiter.js';
import { WeightLimiter } from './weight-limiter.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface RestClientOptions {
  /** @defaultValue `globalThis.fetch` */
  readonly fetch?: FetchLike;
  /** @defaultValue `Date.now` */
  readonly now?: () => number;
  /** @defaultValue a `node:timers/promises` timeout honouring the signal */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Per-market overrides of {@link MARKET_CONFIGS} (REST base URL, weights, budget...). */
  readonly markets?: Partial<Record<Market, MarketOverrides>>;
  /**
   * Retries after a 429 before giving up with `rate-limited`.
   * @defaultValue 3
   */
  readonly maxRetries?: number;
  /**
   * Wait after a 429 without a usable `Retry-After`.
   * @defaultValue 5000
   */
  readonly defaultRetryAfterMs?: number;
  /**
   * Longest `Retry-After` the client sleeps through itself; above it, it throws
   * `rate-limited` with `retryAfterMs` and leaves the decision to the caller.
   * @defaultValue 120000
   */
  readonly maxRetryAfterMs?: number;
  /**
   * Ban length assumed when a 418 has no `Retry-After` (Binance's shortest ban).
   * @defaultValue 120000
   */
  readonly defaultBanMs?: number;
  /** @defaultValue 10000 */
  readonly timeoutMs?: number;
  /**
   * Unit of spot REST times. `'MICROSECOND'` sends `X-MBX-TIME-UNIT: MICROSECOND` on spot
   * requests; futures are always milliseconds.
   * @defaultValue 'MILLISECOND'
   */
  readonly spotTimeUnit?: TimeUnit;
}

export interface AggTradesRequest {
  readonly market: Market;
  readonly symbol: string;
  /** First aggregate id, inclusive. Not combinable with `startTime`/`endTime`. */
  readonly fromId?: number;
  /** Milliseconds, inclusive. */
  readonly startTime?: number;
  /** Milliseconds, inclusive. */
  readonly endTime?: number;
  /** @defaultValue Binance's default (500); at most `aggTradesMaxLimit` (1000) */
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

const WEIGHT_HEADER = 'x-mbx-used-weight-1m'; // Headers.get is case-insensitive: -1M and -1m both match

function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class RestClient {
  private readonly fetchFn: FetchLike;
  private readonly clock: Clock;
  private readonly limiter: WeightLimiter;
  private readonly configs: Readonly<Record<Market, MarketConfig>>;
  private readonly maxRetries: number;
  private readonly defaultRetryAfterMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly defaultBanMs: number;
  private readonly timeoutMs: number;
  private readonly spotTimeUnit: TimeUnit;
  private bannedUntil = 0;

  constructor(options: RestClientOptions = {}) {
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.clock = { now: options.now ?? Date.now, sleep: options.sleep ?? sleep };
    this.limiter = new WeightLimiter(this.clock);
    const overrides = options.markets ?? {};
    this.configs = Object.fromEntries(MARKETS.map((m) => [m, marketConfig(m, overrides[m])])) as Record<
      Market,
      MarketConfig
    >;
    this.maxRetries = options.maxRetries ?? 3;
    this.defaultRetryAfterMs = options.defaultRetryAfterMs ?? 5_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
    this.defaultBanMs = options.defaultBanMs ?? 120_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.spotTimeUnit = options.spotTimeUnit ?? 'MILLISECOND';
  }

  /** The effective configuration of `market`. */
  config(market: Market): MarketConfig {
    return this.configs[market];
  }

  /** Weight spent in the current window of `market`'s pool (shared by USD-M and COIN-M). */
  weightUsage(market: Market): WeightUsage & { readonly budget: number; readonly bannedUntilMs: number } {
    const cfg = this.configs[market];
    return {
      ...this.limiter.usage(cfg.weightPool),
      budget: cfg.weightBudgetPerMinute,
      bannedUntilMs: this.bannedUntil > this.clock.now() ? this.bannedUntil : 0,
    };
  }

  /** `GET /api/v3/aggTrades` (spot), `/fapi/v1/aggTrades`, `/dapi/v1/aggTrades`. */
  async aggTrades(request: AggTradesRequest): Promise<FrameTrade[]> {
    const { market, symbol } = request;
    const cfg = this.configs[market];
    if (!isSymbol(symbol)) throw new BinanceError('invalid-argument', `not a valid symbol: ${JSON.stringify(symbol)}`);
    if (request.fromId !== undefined && (request.startTime !== undefined || request.endTime !== undefined)) {
      throw new BinanceError('invalid-argument', 'aggTrades: fromId cannot be combined with startTime/endTime');
    }
    const params = new URLSearchParams({ symbol });
    for (const key of ['fromId', 'startTime', 'endTime', 'limit'] as const) {
      const v = request[key];
      if (v === undefined) continue;
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new BinanceError('invalid-argument', `aggTrades: ${key} must be a safe non-negative integer, got ${v}`);
      }
      params.set(key, String(v));
    }
    if (request.limit !== undefined && (request.limit < 1 || request.limit > cfg.aggTradesMaxLimit)) {
      throw new BinanceError('invalid-argument', `aggTrades: limit must be 1..${cfg.aggTradesMaxLimit}, got ${request.limit}`);
    }
    const timeUnit = market === 'spot' ? this.spotTimeUnit : 'MILLISECOND';
    const body = await this.getJson(market, cfg.aggTradesPath, params, cfg.weights.aggTrades, request.signal);
    if (!Array.isArray(body)) throw new BinanceError('bad-response', `${market} aggTrades did not return an array`);
    return body.map((row: unknown, i: number) => {
      const t = parseRestAggTrade(market, symbol, row, { timeUnit });
      if (isFrameError(t)) throw new BinanceError('bad-response', `${market} aggTrades row ${i}: ${t.reason}`);
      return t;
    });
  }

  /** All symbols of `market` (`contractStatus` becomes `status` on COIN-M). */
  async exchangeInfo(market: Market, options: { readonly signal?: AbortSignal } = {}): Promise<SymbolInfo[]> {
    const cfg = this.configs[market];
    const body = await this.getJson(market, cfg.exchangeInfoPath, new URLSearchParams(), cfg.weights.exchangeInfo, options.signal);
    return parseExchangeInfo(market, body);
  }

  /**
   * Fetches `[fromId, toIdExclusive)` page by page (up to `aggTradesMaxLimit` ids each), in
   * id order. Never throws for a failed page: the result carries `missing` ranges and the
   * `error` that stopped it.
   */
  async backfill(request: BackfillRequest): Promise<BackfillResult> {
    const { market, symbol } = request;
    return backfillAggTrades(
      (fromId, limit, signal) =>
        this.aggTrades(signal === undefined ? { market, symbol, fromId, limit } : { market, symbol, fromId, limit, signal }),
      request,
      this.configs[market].aggTradesMaxLimit,
    );
  }

  private async getJson(
    market: Market,
    path: string,
    params: URLSearchParams,
    weight: number,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const cfg = this.configs[market];
    const query = params.toString();
    const url = `${cfg.restBaseUrl}${path}${query === '' ? '' : `?${query}`}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (market === 'spot' && this.spotTimeUnit === 'MICROSECOND') headers['X-MBX-TIME-UNIT'] = 'MICROSECOND';

    // The project's one retry loop: only a 429 whose Retry-After is within the cap is retried,
    // after exactly that wait (Backoff honours `retryAfterMs`), at most `maxRetries` times.
    return retry((attempt) => this.send(market, path, url, headers, weight, signal, attempt), {
      backoff: new Backoff(),
      maxAttempts: this.maxRetries + 1,
      shouldRetry: (err) =>
        err instanceof BinanceError && err.code === 'rate-limited' && err.retryAfterMs !== undefined && err.retryAfterMs <= this.maxRetryAfterMs,
      sleep: async (ms) => {
        try {
          await this.clock.sleep(ms, signal);
        } catch (err) {
          throw new BinanceError('aborted', `${market} ${path}: aborted while waiting for request weight`, { cause: err });
        }
      },
    });
  }

  /** One request; `attempt` counts from 1 and only names the attempts in a 429's message. */
  private async send(
    market: Market,
    path: string,
    url: string,
    headers: Record<string, string>,
    weight: number,
    signal: AbortSignal | undefined,
    attempt: number,
  ): Promise<unknown> {
    const cfg = this.configs[market];
    this.throwIfBanned();
    let windowStart: number;
    try {
      windowStart = await this.limiter.acquire(cfg.weightPool, weight, cfg.weightBudgetPerMinute, signal);
    } catch (err) {
      throw new BinanceError('aborted', `${market} ${path}: aborted while waiting for request weight`, { cause: err });
    }
    this.throwIfBanned();

    let res: Response;
    try {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      res = await this.fetchFn(url, {
        method: 'GET',
        headers,
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
    } catch (err) {
      if (signal?.aborted === true) throw new BinanceError('aborted', `${market} ${path}: aborted`, { cause: err });
      const name = err instanceof Error ? err.name : '';
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new BinanceError('timeout', `${market} ${path}: no answer within ${this.timeoutMs} ms`, { cause: err });
      }
      throw new BinanceError('network', `${market} ${path}: request failed`, { cause: err });
    }

    const used = Number(res.headers.get(WEIGHT_HEADER) ?? Number.NaN);
    if (Number.isSafeInteger(used) && used >= 0) this.limiter.observe(cfg.weightPool, used, windowStart);

    const status = res.status;
    if (status === 418) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.clock.now()) ?? this.defaultBanMs;
      this.bannedUntil = Math.max(this.bannedUntil, this.clock.now() + retryAfterMs);
      await res.body?.cancel();
      throw new BinanceError('ip-banned', `${market} ${path}: IP banned by Binance for ${retryAfterMs} ms (HTTP 418)`, {
        status,
        retryAfterMs,
      });
    }
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.clock.now()) ?? this.defaultRetryAfterMs;
      this.limiter.block(cfg.weightPool, this.clock.now() + retryAfterMs);
      await res.body?.cancel();
      // Retried by the caller's loop unless this was the last attempt or the wait is too long.
      throw new BinanceError('rate-limited', `${market} ${path}: HTTP 429 after ${attempt} attempt(s)`, {
        status,
        retryAfterMs,
      });
    }

    const text = await res.text();
    if (!res.ok) throw this.httpError(market, path, status, text);
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new BinanceError('bad-response', `${market} ${path}: body is not JSON`, { status, cause: err });
    }
  }

  private throwIfBanned(): void {
    const now = this.clock.now();
    if (now < this.bannedUntil) {
      // Calling during a ban lengthens it, so refuse locally.
      throw new BinanceError('ip-banned', `IP banned by Binance for another ${this.bannedUntil - now} ms`, {
        retryAfterMs: this.bannedUntil - now,
      });
    }
  }

  private httpError(market: Market, path: string, status: number, text: string): BinanceError {
    let binanceCode: number | undefined;
    let msg = text.slice(0, 200);
    try {
      const j = JSON.parse(text) as unknown;
      if (typeof j === 'object' && j !== null) {
        const { code, msg: m } = j as { code?: unknown; msg?: unknown };
        if (typeof code === 'number') binanceCode = code;
        if (typeof m === 'string') msg = m;
      }
    } catch {
      // not JSON: keep the raw text
    }
    const code = status === 403 ? 'waf-blocked' : status >= 500 ? 'server-error' : 'bad-request';
    const message = `${market} ${path}: HTTP ${status}${binanceCode === undefined ? '' : ` (${binanceCode})`}: ${msg}`;
    return new BinanceError(code, message, binanceCode === undefined ? { status } : { status, binanceCode });
  }
}
