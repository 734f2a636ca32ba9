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
 * A hole only shows when a later id arrives, so trades lost at the end of a symbol's stream
 * are found by tail probes (`fromId` = last id + 1, up to `backfillMaxIds` ids; REST answering
 * nothing more is the normal outcome, not a loss). When to probe — after a reconnect
 * ({@link TradeRouter.resumed}), a rotation ({@link TradeRouter.rotated}) and a symbol's
 * silence, busiest first, spread and weight-budgeted — is decided by {@link TailProber};
 * the router runs the probes.
 */
import type { BackfillRequest, BackfillResult, FrameTrade } from '@cvd/binance';
import { Backoff, RateLimitedLog, type Logger } from '@cvd/common';
import type { AggTrade, Market } from '@cvd/core';
import { SchemaError } from '@cvd/schemas';
import type { IngestConfig } from './env.js';
import type { IngestMetrics } from './metrics.js';
import { SymbolSequence, type HoleRange } from './sequence.js';
import type { TradeSink } from './sink.js';
import { TailProber, type ProbeClock, type ProbeReason } from './tail-prober.js';
import { fetchHole } from './hole-fetch.js';

/** What the router needs from the REST client. */
export interface Backfiller {
  backfill(request: BackfillRequest): Promise<BackfillResult>;
  /** REST weight used in the current window of `market`'s pool, and its budget (tail probes stay below a share). */
  weightUsage?(market: Market): { readonly used: number; readonly budget: number };
}

export type RouterConfig = Pick<
  IngestConfig,
  'backfillDelayMs' | 'backfillMaxIds' | 'backfillConcurrency' | 'backfillAttempts' | 'reconnectInitialMs' | 'reconnectMaxMs'
> &
  Partial<Pick<IngestConfig, 'tailSilenceMs' | 'tailSilenceMaxMs' | 'tailProbesPerSecond' | 'tailWeightShare'>>;

interface SymbolState {
  readonly market: Market;
  readonly symbol: string;
  readonly seq: SymbolSequence;
}

type Job =
  | { readonly kind: 'hole'; readonly state: SymbolState; readonly range: HoleRange; readonly generation: number }
  | { readonly kind: 'tail'; readonly state: SymbolState; readonly generation: number; readonly attempt: number; readonly reason: ProbeReason };

export interface RouterStats {
  published: number;
  recovered: number;
  duplicates: number;
  gaps: number;
  unrecoverable: number;
  inactiveFrames: number;
  schemaRejected: number;
  /** REST probes of the tail of a symbol (after a reconnect, a rotation, or its silence). */
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
  readonly #prober: TailProber;
  /** Tail-probe attempts of the current probe per symbol (failed requests retried with backoff). */
  readonly #tailAttempts = new Map<string, number>();
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
    /** The tail prober's clock and timers (unit tests pass a fake one). */
    probeClock?: ProbeClock;
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
    const c = options.config;
    this.#prober = new TailProber({
      config: {
        settleMs: c.backfillDelayMs,
        silenceMs: c.tailSilenceMs ?? 0,
        silenceMaxMs: c.tailSilenceMaxMs ?? 15 * 60_000,
        probesPerSecond: c.tailProbesPerSecond ?? 5,
        weightShare: c.tailWeightShare ?? 0.5,
      },
      hooks: {
        probe: (key, reason) => this.#startTail(key, reason),
        weight: (market) => this.#rest.weightUsage?.(market),
      },
      ...(options.probeClock !== undefined ? { clock: options.probeClock } : {}),
    });
  }

  /** Tail probes started, by reason. */
  get tailProbesByReason(): Readonly<Record<ProbeReason, number>> {
    return this.#prober.stats.started;
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
    this.#states.set(k, { market, symbol, seq });
    this.#prober.track(k, market, seq.last);
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
    this.#prober.untrack(k);
    this.#tailAttempts.delete(k);
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
    if (!this.#observe(st, t.aggId, this.#now(), true)) return;
    this.#publish(t, false, receivedAtMs);
  }

  /**
   * A websocket connection of these symbols is back after an outage (its subscriptions are
   * acknowledged): each one still silent `backfillDelayMs` later gets its tail probed.
   */
  resumed(market: Market, symbols: readonly string[]): void {
    if (this.#closed) return;
    this.#prober.resumed(symbols.map((s) => `${market}:${s}`));
  }

  /** A planned rotation replaced the connection of these symbols: probe the ones then silent. */
  rotated(market: Market, symbols: readonly string[]): void {
    if (this.#closed) return;
    this.#prober.rotated(symbols.map((s) => `${market}:${s}`));
  }

  /** Stops backfilling (in-flight requests are aborted) and waits for running jobs. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#prober.close();
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

  /** The prober starts a probe: queue it with the hole backfills (same concurrency). */
  #startTail(key: string, reason: ProbeReason): void {
    const st = this.#states.get(key);
    if (this.#closed || st === undefined) {
      this.#prober.finished(key, { kind: 'failed' });
      return;
    }
    this.#jobs.push({ kind: 'tail', state: st, generation: st.seq.generation, attempt: this.#tailAttempts.get(key) ?? 0, reason });
    this.#pump();
  }

  /**
   * Fetches what REST holds after the last id of a silent symbol and publishes it (`recovered`)
   * through the same id tracking as websocket frames, so an id arriving both ways is published
   * once. A full answer (`backfillMaxIds` ids) probes on; failed requests are retried (through
   * the prober, with backoff) up to `backfillAttempts` times, then logged.
   */
  async #probeTail(job: Extract<Job, { kind: 'tail' }>): Promise<void> {
    const st = job.state;
    const key = `${st.market}:${st.symbol}`;
    const stale = (): boolean => this.#closed || this.#states.get(key) !== st || st.seq.generation !== job.generation;
    const end = (outcome: Parameters<TailProber['finished']>[1]): void => {
      if (outcome.kind !== 'retry') this.#tailAttempts.delete(key);
      if (this.#states.get(key) === st) this.#prober.finished(key, outcome);
    };
    const last = st.seq.last;
    if (stale() || last === undefined) return end({ kind: 'failed' });
    const fromId = last + 1;
    const labels = { market: st.market, symbol: st.symbol, fromId, reason: job.reason };
    this.stats.tailProbes += 1;
    this.#metrics.tailProbes.inc({ market: st.market, reason: job.reason });
    let result: BackfillResult;
    try {
      result = await this.#rest.backfill({ market: st.market, symbol: st.symbol, fromId, toIdExclusive: fromId + this.#config.backfillMaxIds, signal: this.#abort.signal });
    } catch (err) {
      if (stale()) return end({ kind: 'failed' });
      this.#metrics.backfillRequests.inc({ market: st.market, outcome: 'failed' });
      this.#rlog.warn(`tail:${st.market}:${st.symbol}`, { err, ...labels }, 'REST probe of a silent symbol failed');
      return end({ kind: 'failed' });
    }
    if (stale()) return end({ kind: 'failed' });
    const now = this.#now();
    let recovered = 0;
    for (const t of result.trades) {
      if (!this.#observe(st, t.aggId, now, false)) continue;
      this.#publish(t, true, now);
      recovered += 1;
    }
    if (recovered > 0) {
      this.#metrics.backfilled.inc({ market: st.market, symbol: st.symbol }, recovered);
      this.#rlog.info(`tail-found:${st.market}:${st.symbol}`, { ...labels, recovered }, 'trades after the last id of a silent symbol recovered over REST');
    }
    const err = result.error;
    this.#metrics.backfillRequests.inc({ market: st.market, outcome: err !== undefined ? 'failed' : 'complete' });
    if (err === undefined && result.missingCount === 0 && result.trades.length > 0) {
      // REST served the whole window: there may be more.
      this.#jobs.push({ ...job, attempt: 0 });
      return;
    }
    if (err !== undefined && err.retriable && job.attempt + 1 < this.#config.backfillAttempts) {
      this.#tailAttempts.set(key, job.attempt + 1);
      this.#rlog.warn(`tail:${st.market}:${err.code}`, { err, ...labels }, 'REST probe of a silent symbol failed: retrying');
      return end({ kind: 'retry', delayMs: this.#restBackoff.next({ retryAfterMs: err.retryAfterMs }) });
    }
    if (err !== undefined) {
      this.#rlog.warn(`tail:${st.market}:${err.code}`, { err, ...labels }, 'REST probe of a silent symbol failed: giving up until the next reconnect or silence probe');
      return end({ kind: 'failed' });
    }
    this.#restBackoff.reset();
    end({ kind: 'done', lastId: st.seq.last });
  }

  /**
   * Runs an id through the symbol's tracking (websocket frames and trades fetched past the last
   * id alike): false for an id already published; a later id raises `last` (the prober hears of
   * it), a skipped id opens a hole that is backfilled the usual way.
   */
  #observe(st: SymbolState, aggId: number, now: number, ws: boolean): boolean {
    const labels = { market: st.market, symbol: st.symbol };
    const before = st.seq.last;
    const o = st.seq.observe(aggId, now);
    const after = st.seq.last;
    if (after !== undefined && after !== before) this.#prober.heard(`${st.market}:${st.symbol}`, after);
    if (o.kind === 'duplicate') {
      if (ws) {
        this.stats.duplicates += 1;
        this.#metrics.duplicates.inc(labels);
      }
      return false;
    }
    if (o.kind !== 'gap') return true;
    const size = o.hole.hi - o.hole.lo + 1;
    this.stats.gaps += 1;
    this.#metrics.gaps.inc(labels);
    this.#metrics.gapIds.inc(labels, size);
    if (o.tooLarge) {
      this.#giveUp(st, size, 'too_large', { hole: o.hole, maxIds: this.#config.backfillMaxIds });
    } else {
      this.#rlog.info(`gap:${st.market}:${st.symbol}`, { ...labels, hole: o.hole, size }, 'hole in the aggTrade ids: will backfill what stays missing');
      this.#withHoles.add(st);
      this.#arm();
    }
    return true;
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
    await fetchHole(
      {
        rest: this.#rest,
        config: this.#config,
        metrics: this.#metrics,
        rlog: this.#rlog,
        backoff: this.#restBackoff,
        signal: this.#abort.signal,
        now: this.#now,
        publish: (t, receivedAtMs) => this.#publish(t, true, receivedAtMs),
        giveUp: (count, reason, fields) => this.#giveUp(st, count, reason, fields),
      },
      { market: st.market, symbol: st.symbol, seq: st.seq },
      range,
      stale,
    );
    if (st.seq.missing === 0) this.#withHoles.delete(st);
  }
}
