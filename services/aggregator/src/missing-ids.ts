import type { BarRow } from '@cvd/engine';

/**
 * Agg ids missing in the bars last written (the `cvd_aggregator_missing_agg_ids` gauge). A bar
 * is remembered while it can still change: it is forgotten when a write shows it complete, or
 * once it left the revision horizon (then no late trade can fill its holes, and remembering it
 * would grow the map forever for bars that stay incomplete).
 */
export class MissingIds {
  private readonly byBar = new Map<string, { ts: number; market: string; missing: number }>();

  /** Takes the written rows' counts: the latest write of a bar wins. */
  record(rows: readonly BarRow[]): void {
    for (const r of rows) {
      const k = `${r.ts}|${r.market}|${r.symbol}`;
      if (r.missingAggIds > 0) this.byBar.set(k, { ts: r.ts, market: r.market, missing: r.missingAggIds });
      else this.byBar.delete(k);
    }
  }

  /** Forgets every bar for which `expired(ts)` holds (past the revision horizon). */
  forget(expired: (ts: number) => boolean): void {
    for (const [k, v] of this.byBar) if (expired(v.ts)) this.byBar.delete(k);
  }

  /** Bars remembered (for tests and debugging). */
  get size(): number {
    return this.byBar.size;
  }

  /** Adds this tracker's missing ids per market into `sums`. */
  addTo(sums: Record<string, number>): void {
    for (const v of this.byBar.values()) sums[v.market] = (sums[v.market] ?? 0) + v.missing;
  }
}
