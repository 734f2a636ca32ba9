/**
 * The one place the symbol set changes. Every input (file load, selector refresh, admin
 * call) runs through {@link Reconciler.serial}, so the topic sees changes in order; each
 * `reconcile` computes the desired set from the file, the selectors and the admin API's
 * additions/removals, diffs it against what the topic holds and publishes only the
 * differences.
 */
import type { Logger } from '@cvd/common';
import { MARKETS, type Market } from '@cvd/core';
import { apiStateFromTopic, computeDesired, diffSymbols, type ApiState, type DesiredEntry, type OutRecord } from './desired.js';
import type { SymbolFileSource } from './file-source.js';
import type { ConfigMetrics } from './metrics.js';
import type { SelectorResolver } from './selector-resolver.js';
import type { SymbolsTopic } from './symbols-topic.js';
import { withTimeout } from './timeout.js';

/** One symbol as `GET /symbols` lists it. */
export interface SymbolView {
  readonly market: Market;
  readonly symbol: string;
  readonly enabled: boolean;
  readonly source: string;
  readonly sources: readonly string[];
}

export interface ReconcilerOptions {
  /** What the reconciler needs of {@link SymbolsTopic}: its content and the acknowledged publish. */
  readonly topic: Pick<SymbolsTopic, 'current' | 'publish'>;
  readonly file: SymbolFileSource;
  readonly selectors: SelectorResolver;
  readonly metrics: ConfigMetrics;
  readonly logger: Logger;
  readonly now: () => number;
}

export class Reconciler {
  /** The admin API's additions and removals; recovered from the topic at start. */
  private readonly api: ApiState;
  private desiredSet = new Map<string, DesiredEntry>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Reconciles since start. */
  reconciles = 0;

  constructor(private readonly options: ReconcilerOptions) {
    this.api = apiStateFromTopic(options.topic.current);
  }

  /** The admin API state read back from the topic (for the start-up log). */
  get apiCounts(): { added: number; removed: number } {
    return { added: this.api.added.size, removed: this.api.removed.size };
  }

  /** The desired set of the last reconcile. */
  get desired(): ReadonlyMap<string, DesiredEntry> {
    return this.desiredSet;
  }

  /** Runs `fn` after everything queued before it; state is mutated only inside. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Waits (at most `timeoutMs`) for the queued changes to be published. */
  async drain(timeoutMs: number): Promise<void> {
    await withTimeout(this.queue, timeoutMs);
  }

  /** Publishes the difference between the desired set and the topic; call inside {@link serial}. */
  async reconcile(reason: string): Promise<{ records: number; tombstones: number }> {
    const { topic, file, selectors, logger, now } = this.options;
    const current = file.file;
    this.desiredSet = computeDesired({ file: current?.symbols, selected: selectors.lists(current), api: this.api, current: topic.current });
    this.updateGauges();
    const records: OutRecord[] = diffSymbols(topic.current, this.desiredSet, now());
    this.reconciles++;
    if (records.length === 0) {
      logger.debug({ reason }, 'symbol set unchanged; nothing to publish');
      return { records: 0, tombstones: 0 };
    }
    const result = await topic.publish(records);
    logger.info(
      {
        reason,
        published: result.records,
        tombstones: result.tombstones,
        keys: records.length <= 50 ? records.map((r) => `${r.value === null ? '-' : '+'}${r.key}`) : undefined,
      },
      'published symbol changes',
    );
    return result;
  }

  /** Records admin API additions; returns which keys were new. Call inside {@link serial}. */
  addByApi(keys: readonly string[]): { added: string[]; unchanged: string[] } {
    const added: string[] = [];
    const unchanged: string[] = [];
    for (const k of keys) {
      if (this.api.added.has(k)) unchanged.push(k);
      else added.push(k);
      this.api.removed.delete(k);
      this.api.added.add(k);
    }
    return { added, unchanged };
  }

  /**
   * Records an admin API removal: a symbol only the API added is tombstoned, one the file or
   * a selector also lists is disabled. `undefined` when the key is not in the set. Call
   * inside {@link serial}.
   */
  removeByApi(k: string): 'disabled' | 'tombstone' | undefined {
    const entry = this.desiredSet.get(k);
    if (entry === undefined || !entry.enabled) return undefined;
    this.api.added.delete(k);
    const listedElsewhere = entry.sources.some((s) => s !== 'api');
    if (listedElsewhere) this.api.removed.add(k);
    return listedElsewhere ? 'disabled' : 'tombstone';
  }

  view(): SymbolView[] {
    return [...this.desiredSet.values()].map((d) => ({ market: d.market, symbol: d.symbol, enabled: d.enabled, source: d.source, sources: d.sources }));
  }

  private updateGauges(): void {
    const { metrics } = this.options;
    metrics.symbolsDesired.reset();
    metrics.symbolsRemoved.reset();
    for (const market of MARKETS) for (const source of ['file', 'selector', 'api']) metrics.symbolsDesired.set({ market, source }, 0);
    for (const d of this.desiredSet.values()) {
      if (d.enabled) metrics.symbolsDesired.inc({ market: d.market, source: d.source });
      else metrics.symbolsRemoved.inc({ market: d.market });
    }
  }
}
