/**
 * From websocket frames to published trades: per (market, symbol) id tracking
 * ({@link SymbolSequence}), duplicate dropping, and REST backfill of holes.
 *
 * A hole becomes due `backfillDelayMs` after it opened (reordered frames fill it meanwhile);
 * due holes are fetched with `RestClient.backfill` (which stays inside the REST weight budget),
 * at most `backfillConcurrency` at a time. Fetched trades are published with `recovered: true`
 * only if their id is still missing; ids REST does not serve are retried once, failed requests
 * up to `backfillAttempts` times with backoff, then counted in `cvd_ingest_unrecoverable_total`
 * and logged — never hidden.
 *
 * A hole only shows when a later id arrives. Trades lost in a websocket outage that were the
 * LAST ones of a symbol's stream (it then went quiet) reveal nothing, so after a connection
 * comes back ({@link TradeRouter.resumed}) every symbol still silent `backfillDelayMs` later
 * gets its tail probed over REST (`fromId` = last id + 1, up to `backfillMaxIds` ids; REST
 * answering nothing more is the normal outcome, not a loss). A symbol already probed at its
 * last id after that reconnect (several connections coming back at once) is not probed again.
 */
import type { BackfillRequest, BackfillResult, FrameTrade } from '@cvd/binance';
import { Backoff, RateLimitedLog, type Logger } from '@cvd/common';
import type { AggTrade, Market } from '@cvd/core';
import { SchemaError } from '@cvd/schemas';
import type { IngestConfig } from './env.js';
import type { IngestMetrics } from './metrics.js';
import { SymbolSequence, type HoleRange } from './sequence.js';
import type { TradeSink } from './sink.js';

/** What the router needs from the REST client. */
export interface Backfiller {
  backfill(request: BackfillRequest): Promise<BackfillResult>;
}

export type RouterConfig = Pick<
  IngestConfig,
  'backfillDelayMs' | 'backfillMaxIds' | 'backfillConcurrency' | 'backfillAttempts' | 'reconnectInitialMs' | 'reconnectMaxMs'
>;

interface SymbolState {
  readonly market: Market;
  readonly symbol: string;
  readonly seq: SymbolSequence;
  /** A tail probe is queued or running. */
  probing: boolean;
  /** The last finished tail probe: the last id after it and when it was started. */
  probed: { readonly lastId: number; readonly startedAtMs: number } | undefined;
}

type Job =
  | { readonly kind: 'hole'; readonly state: SymbolState; readonly range: HoleRange; readonly generation: number }
  | { readonly kind: 'tail'; readonly state: SymbolState; readonly generation: number; readonly attempt: number };

export interface RouterStats {
  published: number;
  recovered: number;
  duplicates: number;
  gaps: number;
  unrecoverable: number;
  inactiveFrames: number;
  schemaRejected: number;
  /** REST probes of the tail of a symbol silent after a reconnect. */
  tailProbes: number;
}

export class TradeRouter {
  readonly #config: RouterConfig;
  readonly #sink: TradeSink;
  readonly #rest: Backfiller;
  readonly #metrics: IngestMetrics;
  readonly #log: Logger;
  readonly #rlog: RateLimitedLog;
  readonly #now: () => number;
  readonly #states = new Map<string, SymbolState>();
  readonly #seeds = new Map<string, number>();
  readonly #withHoles = new Set<SymbolState>();
  readonly #jobs: Job[] = [];
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  readonly #restBackoff: Backoff;
  readonly #probeTimers = new Set<NodeJS.Timeout>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #closed = false;
  readonly stats: RouterStats = { published: 0, recovered: 0, duplicates: 0, gaps: 0, unrecoverable: 0, inactiveFrames: 0, schemaRejected: 0, tailProbes: 0 };

  constructor(options: {
    config: RouterConfig;
    sink: TradeSink;
    rest: Backfiller;
    metrics: IngestMetrics;
    logger: Logger;
    now?: () => number;
  }) {
    this.#config = options.config;
    this.#sink = options.sink;
    this.#rest = options.rest;
    this.#metrics = options.metrics;
    this.#log = options.logger.child({ component: 'router' });
    this.#rlog = new RateLimitedLog(this.#log);
    this.#now = options.now ?? Date.now;
    this.#restBackoff = new Backoff({
      initialMs: Math.max(options.config.backfillDelayMs, options.config.reconnectInitialMs),
      maxMs: Math.max(options.config.reconnectMaxMs, options.config.backfillDelayMs),
    });
  }

  /** Last ids published by a previous run (`market:SYMBOL` → aggId), used when a symbol is activated. */
  seed(lastIds: ReadonlyMap<string, number>): void {
    for (const [k, v] of lastIds) this.#seeds.set(k, v);
  }

  /** Starts accepting trades of this symbol. */
  activate(market: Market, symbol: string): void {
    const k = `${market}:${symbol}`;
    if (this.#states.has(k)) return;
    const seq = new SymbolSequence({ backfillDelayMs: this.#config.backfillDelayMs, maxHoleIds: this.#config.backfillMaxIds });
    const seeded = this.#seeds.get(k);
    if (seeded !== undefined) seq.seed(seeded);
    this.#states.set(k, { market, symbol, seq, probing: false, probed: undefined });
  }

  /** Stops: later frames are dropped, open holes forgotten (a re-add starts afresh). */
  deactivate(market: Market, symbol: string): void {
    const k = `${market}:${symbol}`;
    const st = this.#states.get(k);
    if (st === undefined) return;
    st.seq.reset();
    // A symbol re-added later starts afresh: the ids in between were not wanted.
    this.#seeds.delete(k);
    this.#withHoles.delete(st);
    this.#states.delete(k);
  }

  isActive(market: Market, symbol: string): boolean {
    return this.#states.has(`${market}:${symbol}`);
  }

  /** Ids of `market` currently missing (open holes). */
  openHoleIds(market: string): number {
    let n = 0;
    for (const st of this.#withHoles) if (st.market === market) n += st.seq.missing;
    return n;
  }

  /** Last published id per active symbol (for tests and diagnostics). */
  lastIds(): Map<string, number | undefined> {
    return new Map([...this.#states].map(([k, st]) => [k, st.seq.last]));
  }

  onWsTrade(t: FrameTrade, receivedAtMs: number): void {
    if (this.#closed) return;
    const st = this.#states.get(`${t.market}:${t.symbol}`);
    if (st === undefined) {
      // Unsubscribed (or never subscribed) symbol: frames may trail an UNSUBSCRIBE.
      this.stats.inactiveFrames += 1;
      return;
    }
    const labels = { market: t.market, symbol: t.symbol };
    this.#metrics.frames.inc(labels);
    const lag = receivedAtMs - t.tradeTimeMs;
    this.#metrics.lag.observe({ market: t.market }, Math.max(0, lag));
    this.#metrics.symbolLag.set(labels, lag);
    const o = st.seq.observe(t.aggId, this.#now());
    switch (o.kind) {
      case 'duplicate':
        this.stats.duplicates += 1;
        this.#metrics.duplicates.inc(labels);
        return;
      case 'gap': {
        const size = o.hole.hi - o.hole.lo + 1;
        this.stats.gaps += 1;
        this.#metrics.gaps.inc(labels);
        this.#metrics.gapIds.inc(labels, size);
        if (o.tooLarge) {
          this.#giveUp(st, size, 'too_large', { hole: o.hole, maxIds: this.#config.backfillMaxIds });
        } else {
          this.#rlog.info(`gap:${t.market}:${t.symbol}`, { ...labels, hole: o.hole, size }, 'hole in the aggTrade ids: will backfill what stays missing');
          this.#withHoles.add(st);
          this.#arm();
        }
        break;
      }
      default:
        break;
    }
    this.#publish(t, false, receivedAtMs);
  }

  /**
   * A websocket connection of these symbols is back after an outage (its subscriptions are
   * acknowledged). Each symbol with a known last id that is still silent `backfillDelayMs`
   * later — no frame raised its last id, so no gap can show what the outage swallowed — gets
   * its tail probed over REST, unless it was already probed at that id since this reconnect.
   */
  resumed(market: Market, symbols: readonly string[]): void {
    if (this.#closed) return;
    const at = this.#now();
    const watch: { st: SymbolState; last: number; generation: number }[] = [];
    for (const symbol of symbols) {
      const st = this.#states.get(`${market}:${symbol}`);
      const last = st?.seq.last;
      if (st === undefined || last === undefined) continue; // nothing known: no tail to probe
      watch.push({ st, last, generation: st.seq.generation });
    }
    if (watch.length === 0) return;
    const timer = setTimeout(() => {
      this.#probeTimers.delete(timer);
      if (this.#closed) return;
      for (const { st, last, generation } of watch) {
        if (this.#states.get(`${st.market}:${st.symbol}`) !== st || st.seq.generation !== generation) continue;
        if (st.seq.last !== last) continue; // heard from: a gap, if any, shows the normal way
        if (st.probing) continue;
        if (st.probed !== undefined && st.probed.lastId === last && st.probed.startedAtMs >= at) continue;
        st.probing = true;
        this.#jobs.push({ kind: 'tail', state: st, generation, attempt: 0 });
      }
      this.#pump();
    }, this.#config.backfillDelayMs);
    this.#probeTimers.add(timer);
  }

  /** Stops backfilling (in-flight requests are aborted) and waits for running jobs. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#probeTimers) clearTimeout(t);
    this.#probeTimers.clear();
    clearTimeout(this.#timer);
    this.#jobs.length = 0;
    this.#abort.abort(new Error('ingest stopping'));
    await Promise.allSettled([...this.#running]);
  }

  #publish(t: FrameTrade, recovered: boolean, receivedAtMs: number): void {
    // The parsed trade plus the pipeline's fields (a µs stream's `tradeTimeUs` rides along
    // in memory; the Avro encoder writes the schema's fields only).
    const trade: AggTrade = { ...t, recovered, receivedAtMs };
    try {
      this.#sink.publishTrade(trade);
    } catch (err) {
      if (!(err instanceof SchemaError)) {
        // The producer is closed (shutting down): nothing to publish to any more.
        this.#rlog.error('publish-failed', { err, market: t.market, symbol: t.symbol, aggId: t.aggId }, 'could not enqueue a trade');
        return;
      }
      // The parser accepted what the schema refuses: keep the evidence, never crash.
      this.stats.schemaRejected += 1;
      this.#rlog.error(`schema:${t.market}`, { err, market: t.market, symbol: t.symbol, aggId: t.aggId }, 'trade refused by the AggTrade schema: dead-lettered');
      this.#sink.deadLetter(t.market, Buffer.from(JSON.stringify(trade)), 'schema-invalid', { symbol: t.symbol });
      this.#metrics.deadLettered.inc({ market: t.market, reason: 'schema-invalid' });
      return;
    }
    this.stats.published += 1;
    if (recovered) this.stats.recovered += 1;
    this.#metrics.published.inc({ market: t.market, symbol: t.symbol, source: recovered ? 'rest' : 'ws' });
  }

  #giveUp(st: SymbolState, count: number, reason: string, fields: Record<string, unknown>): void {
    if (count <= 0) return;
    this.stats.unrecoverable += count;
    this.#metrics.unrecoverable.inc({ market: st.market, symbol: st.symbol, reason }, count);
    this.#rlog.warn(`lost:${st.market}:${st.symbol}:${reason}`, { market: st.market, symbol: st.symbol, count, reason, ...fields }, 'aggTrade ids could not be recovered');
  }

  /**
   * Fetches what REST holds after the last id of a silent symbol and publishes it (`recovered`)
   * through the same id tracking as websocket frames, so an id arriving both ways is published
   * once. A full answer (`backfillMaxIds` ids) probes on; failed requests are retried up to
   * `backfillAttempts` times with backoff, then logged.
   */
  async #probeTail(job: Extract<Job, { kind: 'tail' }>): Promise<void> {
    const st = job.state;
    const stale = (): boolean => this.#closed || this.#states.get(`${st.market}:${st.symbol}`) !== st || st.seq.generation !== job.generation;
    const last = st.seq.last;
    if (stale() || last === undefined) {
      st.probing = false;
      return;
    }
    const startedAtMs = this.#now();
    const fromId = last + 1;
    this.stats.tailProbes += 1;
    let result: BackfillResult;
    try {
      result = await this.#rest.backfill({
        market: st.market,
        symbol: st.symbol,
        fromId,
        toIdExclusive: fromId + this.#config.backfillMaxIds,
        signal: this.#abort.signal,
      });
    } catch (err) {
      st.probing = false;
      if (stale()) return;
      this.#metrics.backfillRequests.inc({ market: st.market, outcome: 'failed' });
      this.#rlog.warn(`tail:${st.market}:${st.symbol}`, { err, market: st.market, symbol: st.symbol, fromId }, 'REST probe of a silent symbol failed');
      return;
    }
    if (stale()) {
      st.probing = false;
      return;
    }
    const now = this.#now();
    let recovered = 0;
    for (const t of result.trades) {
      if (!this.#takeRecovered(st, t, now)) continue;
      this.#publish(t, true, now);
      recovered += 1;
    }
    if (recovered > 0) {
      this.#metrics.backfilled.inc({ market: st.market, symbol: st.symbol }, recovered);
      this.#rlog.info(`tail-found:${st.market}:${st.symbol}`, { market: st.market, symbol: st.symbol, fromId, recovered }, 'trades after the last id of a silent symbol recovered over REST');
    }
    const err = result.error;
    this.#metrics.backfillRequests.inc({ market: st.market, outcome: err !== undefined ? 'failed' : 'complete' });
    if (err === undefined && result.missingCount === 0 && result.trades.length > 0) {
      // REST served the whole window: there may be more.
      this.#jobs.push({ kind: 'tail', state: st, generation: job.generation, attempt: 0 });
      return;
    }
    if (err !== undefined && err.retriable && job.attempt + 1 < this.#config.backfillAttempts) {
      const delay = this.#restBackoff.next({ retryAfterMs: err.retryAfterMs });
      const timer = setTimeout(() => {
        this.#probeTimers.delete(timer);
        if (this.#closed) return;
        this.#jobs.push({ kind: 'tail', state: st, generation: job.generation, attempt: job.attempt + 1 });
        this.#pump();
      }, delay);
      this.#probeTimers.add(timer);
      this.#rlog.warn(`tail:${st.market}:${err.code}`, { err, market: st.market, symbol: st.symbol, fromId }, 'REST probe of a silent symbol failed: retrying');
      return;
    }
    st.probing = false;
    if (err !== undefined) {
      this.#rlog.warn(`tail:${st.market}:${err.code}`, { err, market: st.market, symbol: st.symbol, fromId }, 'REST probe of a silent symbol failed: giving up until the next reconnect');
      return;
    }
    this.#restBackoff.reset();
    const lastId = st.seq.last;
    if (lastId !== undefined) st.probed = { lastId, startedAtMs };
  }

  /**
   * Whether a trade fetched past the last id must be published: runs it through the id tracking
   * like a websocket frame (a later id raises `last`, a skipped id opens a hole that is
   * backfilled the usual way, an id already published is dropped).
   */
  #takeRecovered(st: SymbolState, t: FrameTrade, now: number): boolean {
    const o = st.seq.observe(t.aggId, now);
    switch (o.kind) {
      case 'duplicate':
        return false;
      case 'gap': {
        const labels = { market: st.market, symbol: st.symbol };
        const size = o.hole.hi - o.hole.lo + 1;
        this.stats.gaps += 1;
        this.#metrics.gaps.inc(labels);
        this.#metrics.gapIds.inc(labels, size);
        if (o.tooLarge) this.#giveUp(st, size, 'too_large', { hole: o.hole, maxIds: this.#config.backfillMaxIds });
        else {
          this.#withHoles.add(st);
          this.#arm();
        }
        return true;
      }
      default:
        return true;
    }
  }

  /** Wakes up when the earliest hole is due. */
  #arm(): void {
    if (this.#closed) return;
    let at = Number.POSITIVE_INFINITY;
    for (const st of this.#withHoles) {
      const due = st.seq.nextDueAt();
      if (due === undefined) {
        if (st.seq.missing === 0) this.#withHoles.delete(st);
        continue;
      }
      if (due < at) at = due;
    }
    if (at === Number.POSITIVE_INFINITY || (this.#timer !== undefined && at >= this.#timerAt)) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, at - this.#now()));
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#closed) return;
    const now = this.#now();
    for (const st of this.#withHoles) {
      for (const range of st.seq.takeDue(now)) this.#jobs.push({ kind: 'hole', state: st, range, generation: st.seq.generation });
    }
    this.#pump();
    this.#arm();
  }

  #pump(): void {
    while (!this.#closed && this.#running.size < this.#config.backfillConcurrency && this.#jobs.length > 0) {
      const job = this.#jobs.shift() as Job;
      const p: Promise<void> = this.#run(job).finally(() => {
        this.#running.delete(p);
        this.#pump();
        this.#arm();
      });
      this.#running.add(p);
    }
  }

  async #run(job: Job): Promise<void> {
    if (job.kind === 'tail') return this.#probeTail(job);
    const { state: st, range } = job;
    const stale = (): boolean => this.#closed || this.#states.get(`${st.market}:${st.symbol}`) !== st || st.seq.generation !== job.generation;
    if (stale()) return;
    let result: BackfillResult;
    try {
      result = await this.#rest.backfill({
        market: st.market,
        symbol: st.symbol,
        fromId: range.lo,
        toIdExclusive: range.hi + 1,
        signal: this.#abort.signal,
      });
    } catch (err) {
      if (stale()) return;
      this.#metrics.backfillRequests.inc({ market: st.market, outcome: 'failed' });
      this.#giveUp(st, st.seq.settle(range, { kind: 'abandon' }), 'request_failed', { err, hole: range });
      return;
    }
    if (stale()) return;
    const now = this.#now();
    let recovered = 0;
    for (const t of result.trades) {
      if (!st.seq.take(t.aggId)) continue; // the websocket delivered it meanwhile
      this.#publish(t, true, now);
      recovered += 1;
    }
    if (recovered > 0) this.#metrics.backfilled.inc({ market: st.market, symbol: st.symbol }, recovered);
    const err = result.error;
    const outcome = err !== undefined ? 'failed' : result.missingCount > 0 ? 'partial' : 'complete';
    this.#metrics.backfillRequests.inc({ market: st.market, outcome });
    if (err === undefined && result.missingCount === 0) {
      this.#restBackoff.reset();
      st.seq.settle(range, { kind: 'abandon' });
      return;
    }
    let abandoned: number;
    if (err !== undefined && err.retriable) {
      const retryAt = now + this.#restBackoff.next({ retryAfterMs: err.retryAfterMs });
      abandoned = st.seq.settle(range, { kind: 'retry', retryAt, maxAttempts: this.#config.backfillAttempts });
    } else if (err === undefined) {
      // REST answered without these ids: maybe not visible yet; look once more, then give up.
      abandoned = st.seq.settle(range, { kind: 'retry', retryAt: now + 2 * this.#config.backfillDelayMs, maxAttempts: 2 });
    } else {
      abandoned = st.seq.settle(range, { kind: 'abandon' });
    }
    if (err !== undefined) {
      const level = err.code === 'ip-banned' ? 'error' : 'warn';
      this.#rlog.log(level, `rest:${st.market}:${err.code}`, { err, market: st.market, symbol: st.symbol, hole: range }, 'REST backfill request failed');
    }
    this.#giveUp(st, abandoned, err === undefined ? 'not_served' : 'request_failed', { hole: range, missing: result.missing.slice(0, 5) });
    if (st.seq.missing === 0) this.#withHoles.delete(st);
  }
}
