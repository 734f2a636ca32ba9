/**
 * One REST fetch of a known hole and what follows from the answer (used by `TradeRouter`):
 * trades still missing are published as recovered; a complete answer closes the hole; ids REST
 * does not serve are looked up once more after `2 × backfillDelayMs`, failed requests retried
 * with backoff up to `backfillAttempts` times; what is abandoned is counted as unrecoverable.
 */
import type { BackfillRequest, BackfillResult, FrameTrade } from '@cvd/binance';
import type { Backoff, RateLimitedLog } from '@cvd/common';
import type { Market } from '@cvd/core';
import type { IngestMetrics } from './metrics.js';
import type { HoleRange, SymbolSequence } from './sequence.js';

export interface HoleFetchContext {
  readonly rest: { backfill(request: BackfillRequest): Promise<BackfillResult> };
  readonly config: { readonly backfillAttempts: number; readonly backfillDelayMs: number };
  readonly metrics: IngestMetrics;
  readonly rlog: RateLimitedLog;
  /** The router's REST backoff (shared with tail probes). */
  readonly backoff: Backoff;
  readonly signal: AbortSignal;
  now(): number;
  /** Publishes a recovered trade. */
  publish(t: FrameTrade, receivedAtMs: number): void;
  /** Counts `count` ids as unrecoverable. */
  giveUp(count: number, reason: string, fields: Record<string, unknown>): void;
}

/** Fetches `range` of the symbol; `stale()` tells that the symbol went away meanwhile. */
export async function fetchHole(
  ctx: HoleFetchContext,
  sym: { readonly market: Market; readonly symbol: string; readonly seq: SymbolSequence },
  range: HoleRange,
  stale: () => boolean,
): Promise<void> {
  const { market, symbol, seq } = sym;
  if (stale()) return;
  let result: BackfillResult;
  try {
    result = await ctx.rest.backfill({ market, symbol, fromId: range.lo, toIdExclusive: range.hi + 1, signal: ctx.signal });
  } catch (err) {
    if (stale()) return;
    ctx.metrics.backfillRequests.inc({ market, outcome: 'failed' });
    ctx.giveUp(seq.settle(range, { kind: 'abandon' }), 'request_failed', { err, hole: range });
    return;
  }
  if (stale()) return;
  const now = ctx.now();
  let recovered = 0;
  for (const t of result.trades) {
    if (!seq.take(t.aggId)) continue; // the websocket delivered it meanwhile
    ctx.publish(t, now);
    recovered += 1;
  }
  if (recovered > 0) ctx.metrics.backfilled.inc({ market, symbol }, recovered);
  const err = result.error;
  const outcome = err !== undefined ? 'failed' : result.missingCount > 0 ? 'partial' : 'complete';
  ctx.metrics.backfillRequests.inc({ market, outcome });
  if (err === undefined && result.missingCount === 0) {
    ctx.backoff.reset();
    seq.settle(range, { kind: 'abandon' });
    return;
  }
  let abandoned: number;
  if (err !== undefined && err.retriable) {
    const retryAt = now + ctx.backoff.next({ retryAfterMs: err.retryAfterMs });
    abandoned = seq.settle(range, { kind: 'retry', retryAt, maxAttempts: ctx.config.backfillAttempts });
  } else if (err === undefined) {
    // REST answered without these ids: maybe not visible yet; look once more, then give up.
    abandoned = seq.settle(range, { kind: 'retry', retryAt: now + 2 * ctx.config.backfillDelayMs, maxAttempts: 2 });
  } else {
    abandoned = seq.settle(range, { kind: 'abandon' });
  }
  if (err !== undefined) {
    const level = err.code === 'ip-banned' ? 'error' : 'warn';
    ctx.rlog.log(level, `rest:${market}:${err.code}`, { err, market, symbol, hole: range }, 'REST backfill request failed');
  }
  ctx.giveUp(abandoned, err === undefined ? 'not_served' : 'request_failed', { hole: range, missing: result.missing.slice(0, 5) });
}
