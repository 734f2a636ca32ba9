/**
 * Filling a hole in the aggTrade id sequence over REST: page `fromId` upwards, 1000 at a
 * time, until the first id already held (`toIdExclusive`). Ids REST does not serve (beyond
 * its retention, not yet visible, or the request failed) are reported as ranges rather than
 * hidden, so the caller can mark them missing and perhaps retry later.
 */
import { BinanceError } from '../errors.js';
import type { FrameTrade } from '../frames/core.js';
import type { Market } from '@cvd/core';

export interface BackfillProgress {
  readonly market: Market;
  readonly symbol: string;
  /** Requests made so far. */
  readonly pages: number;
  /** Trades collected so far. */
  readonly fetched: number;
  /** The next id wanted. */
  readonly nextId: number;
  readonly fromId: number;
  readonly toIdExclusive: number;
}

export interface BackfillRequest {
  readonly market: Market;
  readonly symbol: string;
  /** First wanted id, inclusive (`last_seen_a + 1`). */
  readonly fromId: number;
  /** First id already held. */
  readonly toIdExclusive: number;
  /** Called after every page. */
  readonly onProgress?: (progress: BackfillProgress) => void;
  readonly signal?: AbortSignal;
}

export type MissingReason =
  /** REST answered but had no rows for these ids. */
  | 'not_served'
  /** A request failed; see `BackfillResult.error`. */
  | 'request_failed';

export interface MissingRange {
  readonly fromId: number;
  readonly toIdExclusive: number;
  readonly reason: MissingReason;
}

export interface BackfillResult {
  /** Trades with `fromId <= aggId < toIdExclusive`, in id order, without duplicates. */
  readonly trades: FrameTrade[];
  /** Ids in `[fromId, toIdExclusive)` not in `trades`, as ordered, non-overlapping ranges. */
  readonly missing: MissingRange[];
  /** Sum of `missing` range lengths. */
  readonly missingCount: number;
  readonly pages: number;
  /** The error that stopped the backfill early; `retriable` tells whether trying later may help. */
  readonly error?: BinanceError;
}

/** One REST page: up to `limit` trades from `fromId` (inclusive). */
export type FetchAggTradePage = (fromId: number, limit: number, signal?: AbortSignal) => Promise<FrameTrade[]>;

/**
 * Pages through `fetchPage`. Never throws a {@link BinanceError} from a page: it stops and
 * returns what it got with the rest marked `request_failed`. Throws `invalid-argument` for
 * impossible id ranges.
 */
export async function backfillAggTrades(
  fetchPage: FetchAggTradePage,
  request: BackfillRequest,
  maxLimit: number,
): Promise<BackfillResult> {
  const { market, symbol, fromId, toIdExclusive } = request;
  if (!Number.isSafeInteger(fromId) || !Number.isSafeInteger(toIdExclusive) || fromId < 0 || fromId > toIdExclusive) {
    throw new BinanceError('invalid-argument', `backfill needs 0 <= fromId <= toIdExclusive, got ${fromId}..${toIdExclusive}`);
  }
  const trades: FrameTrade[] = [];
  const missing: MissingRange[] = [];
  const addMissing = (from: number, to: number, reason: MissingReason): void => {
    const last = missing[missing.length - 1];
    if (last !== undefined && last.toIdExclusive === from && last.reason === reason) {
      missing[missing.length - 1] = { ...last, toIdExclusive: to };
    } else {
      missing.push({ fromId: from, toIdExclusive: to, reason });
    }
  };
  let cursor = fromId;
  let pages = 0;
  let error: BinanceError | undefined;
  while (cursor < toIdExclusive) {
    const limit = Math.min(maxLimit, toIdExclusive - cursor);
    let page: FrameTrade[];
    try {
      page = await fetchPage(cursor, limit, request.signal);
    } catch (err) {
      if (!(err instanceof BinanceError)) throw err;
      error = err;
      addMissing(cursor, toIdExclusive, 'request_failed');
      break;
    }
    pages += 1;
    const lo = cursor;
    const wanted = page.filter((t) => t.aggId >= lo && t.aggId < toIdExclusive).sort((a, b) => a.aggId - b.aggId);
    for (const t of wanted) {
      if (t.aggId < cursor) continue; // duplicate within the page
      if (t.aggId > cursor) addMissing(cursor, t.aggId, 'not_served');
      trades.push(t);
      cursor = t.aggId + 1;
    }
    request.onProgress?.({ market, symbol, pages, fetched: trades.length, nextId: cursor, fromId, toIdExclusive });
    // Nothing usable, or a short page: REST has nothing more for this range right now.
    if (cursor < toIdExclusive && (wanted.length === 0 || page.length < limit)) {
      addMissing(cursor, toIdExclusive, 'not_served');
      break;
    }
  }
  const missingCount = missing.reduce((n, r) => n + (r.toIdExclusive - r.fromId), 0);
  const result: BackfillResult = { trades, missing, missingCount, pages };
  return error === undefined ? result : { ...result, error };
}
