/**
 * Trades the engine refused as too old (`beyond-horizon`: their minute expired before the
 * partition's watermark; `settled-id`: their agg id lies in a settled part of the sequence),
 * counted per symbol for `/health`, `/metrics` and `cvd status`. The first such refusal of a
 * symbol is logged (warn) with the reason and the fix: the usual cause is history replayed
 * into a stack whose aggregator state is newer (a demo ran before), where every trade of the
 * replay is refused. Only symbols that had such a refusal get a series (bounded cardinality).
 */
import type { Logger } from '@cvd/common';
import type { RejectedTrade } from '@cvd/engine';
import type { Counter } from 'prom-client';

export const TOO_OLD_REASONS = ['beyond-horizon', 'settled-id'] as const;
export type TooOldReason = (typeof TOO_OLD_REASONS)[number];

export const isTooOld = (reason: string): reason is TooOldReason => (TOO_OLD_REASONS as readonly string[]).includes(reason);

/** The warning for a symbol's first too-old trade: the reason and the fix. */
export function tooOldMessage(reason: TooOldReason, market: string, symbol: string, tradeTimeMs: number, watermarkMs: number): string {
  const when = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));
  const why =
    reason === 'beyond-horizon'
      ? `trades older than the aggregator's watermark are dropped (${market}:${symbol} trade at ${when(tradeTimeMs)}, partition watermark ${when(watermarkMs)}, beyond the revision horizon)`
      : `trades whose agg ids the aggregator already settled are dropped (${market}:${symbol} trade at ${when(tradeTimeMs)})`;
  return `${why}; they are dead-lettered and counted in cvd_aggregator_too_old_trades_total. Replaying history into a used stack? Run \`cvd stack reset\` first`;
}

export class TooOldTrades {
  /** `market:symbol` → reason → count. */
  private readonly counts = new Map<string, Partial<Record<TooOldReason, number>>>();

  constructor(
    private readonly logger: Logger,
    private readonly counter: Counter<'market' | 'symbol' | 'reason'>,
  ) {}

  /** Counts the too-old trades among `rejected`; warns once per symbol. Others are ignored. */
  note(rejected: readonly RejectedTrade[], partition: number, watermarkMs: number): void {
    for (const r of rejected) {
      if (!isTooOld(r.reason)) continue;
      const { market, symbol, tradeTimeMs, aggId } = r.trade;
      const key = `${market}:${symbol}`;
      let c = this.counts.get(key);
      if (c === undefined) {
        this.counts.set(key, (c = {}));
        this.logger.warn(
          { market, symbol, partition, reason: r.reason, aggId, tradeTimeMs, watermarkMs, fix: 'cvd stack reset' },
          tooOldMessage(r.reason, market, symbol, tradeTimeMs, watermarkMs),
        );
      }
      c[r.reason] = (c[r.reason] ?? 0) + 1;
      this.counter.inc({ market, symbol, reason: r.reason });
    }
  }

  /** `{ 'usdm:BTCUSDT': { 'beyond-horizon': 8807 } }`, only symbols that had such a trade. */
  snapshot(): Record<string, Partial<Record<TooOldReason, number>>> {
    return Object.fromEntries([...this.counts].map(([k, v]) => [k, { ...v }]));
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) for (const v of Object.values(c)) n += v ?? 0;
    return n;
  }
}
