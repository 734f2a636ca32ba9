/**
 * When to ask REST for the ids after the last one published ("tail probes").
 *
 * A hole only shows when a later id arrives. Trades lost at the END of a symbol's stream —
 * sent while a connection was down, or into a stream that stalled while its connection stayed
 * up — reveal nothing until the symbol trades again, which for a quiet symbol can be hours.
 * So ingest probes a symbol's tail (`fromId` = last id + 1; REST answering nothing newer is the
 * normal outcome, not a loss):
 *
 * - **reconnect / rotation**: `settleMs` after a connection carrying the symbol came back, or
 *   replaced its predecessor, if the symbol's last id has not moved meanwhile (a symbol heard
 *   from shows any gap the normal way). A symbol already probed at that last id since then
 *   (several connections coming back at once) is not probed again.
 * - **silence**: a symbol whose last id has not moved for `max(silenceMs, 8 × its mean
 *   inter-trade gap)` (capped at `silenceMaxMs`), whatever its connection does. While it stays
 *   at the same id the next silence probe waits twice as long, up to `silenceMaxMs`; a new id
 *   restarts the count. A quiet symbol therefore costs a few probes per `silenceMaxMs`.
 *
 * Probes are spread and budgeted: due probes wait in one queue, busiest symbols first (decayed
 * trade count, time constant 5 min), and are started at most `probesPerSecond` per second
 * (burst: one second's worth) and only while the market's REST weight used in the current
 * window is below `weightShare` of its budget — the rest stays for hole backfills, which are
 * known losses. 1,000 symbols coming back at once are probed over minutes, not in a burst.
 *
 * Pure scheduling: the clock and timers are injected (unit tests use a fake clock); the
 * caller runs the probe ({@link TailProberHooks.probe}) and reports back ({@link TailProber.finished}).
 */
import type { Market } from '@cvd/core';

export type ProbeReason = 'reconnect' | 'rotation' | 'silence';

export interface TailProberConfig {
  /** Wait after a reconnect or rotation before probing a still silent symbol (ms). */
  readonly settleMs: number;
  /** Shortest silence that gets a symbol probed (ms); 0 turns silence probes off. */
  readonly silenceMs: number;
  /** Longest wait between silence probes of a symbol still at the same id (ms). */
  readonly silenceMaxMs: number;
  /** Probes started per second at most (all markets together). */
  readonly probesPerSecond: number;
  /** Share (0..1] of a market's REST weight budget per window above which no probe starts. */
  readonly weightShare: number;
}

export interface ProbeClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: ProbeClock = {
  now: Date.now,
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface TailProberHooks {
  /** Start probing `key`'s tail now; the caller reports the end through {@link TailProber.finished}. */
  probe(key: string, reason: ProbeReason): void;
  /** REST weight used in the current window and the budget of `market`'s pool, if known. */
  weight?(market: Market): { readonly used: number; readonly budget: number } | undefined;
}

/** How a probe ended. */
export type ProbeOutcome =
  /** REST answered; `lastId` is the symbol's last id afterwards. */
  | { readonly kind: 'done'; readonly lastId: number | undefined }
  /** REST failed retriably: probe again after `delayMs` (the caller counts attempts). */
  | { readonly kind: 'retry'; readonly delayMs: number }
  /** Failed for good (or the symbol went away): nothing scheduled. */
  | { readonly kind: 'failed' };

interface Pending {
  readonly reason: ProbeReason;
  /** The last id when scheduled: the probe is dropped if it moved (not for retries). */
  readonly lastId: number | undefined;
  readonly scheduledAt: number;
  readonly dueAt: number;
  readonly retry: boolean;
}

interface Entry {
  readonly key: string;
  readonly market: Market;
  lastId: number | undefined;
  lastMoveAt: number;
  /** Decayed trade count at `lastMoveAt`. */
  activity: number;
  /** Mean gap between last-id moves (EWMA), ms; undefined before the second move. */
  meanGapMs: number | undefined;
  /** Current silence interval (doubles while silent at the same id). */
  silenceIntervalMs: number;
  /** When the next silence probe is due (set when the symbol moves or a silence probe ends). */
  silenceDueAt: number;
  pending: Pending | undefined;
  running: ProbeReason | undefined;
  probed: { readonly lastId: number | undefined; readonly startedAt: number } | undefined;
  startedAt: number;
}

const ACTIVITY_TAU_MS = 5 * 60_000;
const SILENCE_GAP_FACTOR = 8;
/** How soon probes held back by the weight budget are looked at again. */
const WEIGHT_RECHECK_MS = 250;

export interface TailProberStats {
  /** Probes started, by reason. */
  readonly started: Record<ProbeReason, number>;
}

export class TailProber {
  readonly #config: TailProberConfig;
  readonly #clock: ProbeClock;
  readonly #hooks: TailProberHooks;
  readonly #entries = new Map<string, Entry>();
  #tokens: number;
  #tokensAt: number;
  #timer: unknown;
  #timerAt = Number.POSITIVE_INFINITY;
  #silenceScanAt = 0;
  #weightBlocked = false;
  #closed = false;
  readonly stats: TailProberStats = { started: { reconnect: 0, rotation: 0, silence: 0 } };

  constructor(options: { config: TailProberConfig; hooks: TailProberHooks; clock?: ProbeClock }) {
    this.#config = options.config;
    this.#hooks = options.hooks;
    this.#clock = options.clock ?? systemClock;
    this.#tokens = this.#burst();
    this.#tokensAt = this.#clock.now();
  }

  /** Starts tracking a symbol (`lastId` from a previous run, if any). */
  track(key: string, market: Market, lastId: number | undefined): void {
    if (this.#entries.has(key)) return;
    const now = this.#clock.now();
    const base = this.#config.silenceMs;
    this.#entries.set(key, {
      key,
      market,
      lastId,
      lastMoveAt: now,
      activity: 0,
      meanGapMs: undefined,
      silenceIntervalMs: base,
      silenceDueAt: now + base,
      pending: undefined,
      running: undefined,
      probed: undefined,
      startedAt: 0,
    });
    this.#arm(now);
  }

  /** Stops tracking (a pending probe is dropped; a running one's report is ignored). */
  untrack(key: string): void {
    this.#entries.delete(key);
  }

  /** The symbol's last id rose to `lastId` (a websocket frame or a recovered trade). Cheap. */
  heard(key: string, lastId: number): void {
    const e = this.#entries.get(key);
    if (e === undefined) return;
    const now = this.#clock.now();
    const gap = now - e.lastMoveAt;
    if (e.lastId !== undefined) e.meanGapMs = e.meanGapMs === undefined ? gap : 0.9 * e.meanGapMs + 0.1 * gap;
    e.activity = e.activity * Math.exp(-gap / ACTIVITY_TAU_MS) + 1;
    e.lastId = lastId;
    e.lastMoveAt = now;
    e.silenceIntervalMs = this.#silenceThreshold(e);
    e.silenceDueAt = now + e.silenceIntervalMs;
    // The first id of a symbol (or the first after an idle spell) arms the silence watch.
    if (this.#timer === undefined && this.#config.silenceMs > 0) this.#arm(now);
  }

  /** A connection carrying these symbols is back after an outage (subscriptions acknowledged). */
  resumed(keys: readonly string[]): void {
    this.#scheduleAfter(keys, 'reconnect');
  }

  /** A planned rotation replaced the connection carrying these symbols. */
  rotated(keys: readonly string[]): void {
    this.#scheduleAfter(keys, 'rotation');
  }

  /** The probe of `key` ended. */
  finished(key: string, outcome: ProbeOutcome): void {
    const e = this.#entries.get(key);
    if (e === undefined || e.running === undefined) return;
    const reason = e.running;
    e.running = undefined;
    const now = this.#clock.now();
    if (outcome.kind === 'retry') {
      e.pending = { reason, lastId: e.lastId, scheduledAt: now, dueAt: now + outcome.delayMs, retry: true };
    } else if (outcome.kind === 'done') {
      e.probed = { lastId: outcome.lastId, startedAt: e.startedAt };
      if (outcome.lastId === e.lastId && e.lastMoveAt <= e.startedAt) {
        // Nothing newer: the symbol is really quiet; look less and less often.
        e.silenceIntervalMs = Math.min(this.#config.silenceMaxMs, Math.max(e.silenceIntervalMs * 2, this.#config.silenceMs));
        e.silenceDueAt = now + e.silenceIntervalMs;
      }
    }
    this.#arm(now);
  }

  /** Probes waiting (for tests and status). */
  get pending(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.pending !== undefined) n += 1;
    return n;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#entries.clear();
  }

  #scheduleAfter(keys: readonly string[], reason: ProbeReason): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    for (const key of keys) {
      const e = this.#entries.get(key);
      if (e === undefined || e.lastId === undefined) continue; // nothing known: no tail to probe
      // An earlier pending probe is replaced: the newest event's settle time counts.
      e.pending = { reason, lastId: e.lastId, scheduledAt: now, dueAt: now + this.#config.settleMs, retry: false };
    }
    this.#arm(now);
  }

  #silenceThreshold(e: Entry): number {
    const { silenceMs, silenceMaxMs } = this.#config;
    const byGap = e.meanGapMs === undefined ? 0 : SILENCE_GAP_FACTOR * e.meanGapMs;
    return Math.min(silenceMaxMs, Math.max(silenceMs, byGap));
  }

  #burst(): number {
    return Math.max(1, this.#config.probesPerSecond);
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#burst(), this.#tokens + ((now - this.#tokensAt) * this.#config.probesPerSecond) / 1000);
    this.#tokensAt = now;
  }

  /** Silence probes due now become pending (scanned at most every 1/4 of `silenceMs`, ≤ 1 s). */
  #scanSilence(now: number): void {
    const { silenceMs } = this.#config;
    if (silenceMs <= 0 || now < this.#silenceScanAt) return;
    this.#silenceScanAt = now + Math.min(1_000, Math.max(10, Math.floor(silenceMs / 4)));
    for (const e of this.#entries.values()) {
      if (e.lastId === undefined || e.pending !== undefined || e.running !== undefined || now < e.silenceDueAt) continue;
      e.pending = { reason: 'silence', lastId: e.lastId, scheduledAt: now, dueAt: now, retry: false };
    }
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#closed) return;
    const now = this.#clock.now();
    this.#scanSilence(now);
    this.#refill(now);
    const due: Entry[] = [];
    for (const e of this.#entries.values()) {
      const p = e.pending;
      if (p === undefined || p.dueAt > now || e.running !== undefined) continue; // one probe per symbol at a time
      if (!p.retry && this.#obsolete(e, p)) {
        e.pending = undefined;
        continue;
      }
      due.push(e);
    }
    // Busiest first (activity decayed to now), then the longest waiting.
    const score = (e: Entry): number => e.activity * Math.exp(-(now - e.lastMoveAt) / ACTIVITY_TAU_MS);
    due.sort((a, b) => score(b) - score(a) || (a.pending as Pending).dueAt - (b.pending as Pending).dueAt);
    const overBudget = new Map<Market, boolean>();
    this.#weightBlocked = false;
    for (const e of due) {
      if (this.#tokens < 1) break;
      let over = overBudget.get(e.market);
      if (over === undefined) {
        const w = this.#hooks.weight?.(e.market);
        over = w !== undefined && w.budget > 0 && w.used >= w.budget * this.#config.weightShare;
        overBudget.set(e.market, over);
      }
      if (over) {
        this.#weightBlocked = true;
        continue;
      }
      const reason = (e.pending as Pending).reason;
      e.pending = undefined;
      e.running = reason;
      e.startedAt = now;
      this.#tokens -= 1;
      this.stats.started[reason] += 1;
      this.#hooks.probe(e.key, reason);
    }
    this.#arm(now);
  }

  /** A pending non-retry probe that no longer applies. */
  #obsolete(e: Entry, p: Pending): boolean {
    if (e.lastId !== p.lastId) return true; // heard from since: a gap, if any, shows the normal way
    // Already probed at this id after the event (several connections back at once).
    return e.probed !== undefined && e.probed.lastId === e.lastId && e.probed.startedAt > p.scheduledAt;
  }

  /** Wakes at the earliest of: a pending probe due, a token for a due one, the next silence scan. */
  #arm(now: number): void {
    if (this.#closed) return;
    let at = Number.POSITIVE_INFINITY;
    let anyDue = false;
    for (const e of this.#entries.values()) {
      if (e.running !== undefined) continue; // woken by finished()
      if (e.pending !== undefined) {
        if (e.pending.dueAt <= now) anyDue = true;
        else at = Math.min(at, e.pending.dueAt);
      } else if (this.#config.silenceMs > 0 && e.lastId !== undefined) {
        at = Math.min(at, Math.max(e.silenceDueAt, this.#silenceScanAt));
      }
    }
    if (anyDue) {
      // Waiting for a token, or for the weight window to move on.
      const wait =
        this.#tokens < 1
          ? Math.ceil(((1 - this.#tokens) * 1000) / Math.max(this.#config.probesPerSecond, 0.001))
          : this.#weightBlocked
            ? WEIGHT_RECHECK_MS
            : 0;
      at = Math.min(at, now + wait);
    }
    if (at === Number.POSITIVE_INFINITY) return;
    if (this.#timer !== undefined && at >= this.#timerAt) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), Math.max(0, at - now));
  }
}
