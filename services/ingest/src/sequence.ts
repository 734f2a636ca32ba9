/**
 * Per-symbol aggTrade id tracking (pure, time passed in): duplicates, holes and reordering.
 *
 * Binance's `a` increases by exactly 1 per symbol. `last` is the highest id published. A frame
 * with `a <= last` is either a late arrival into an open hole (publish it, close that id) or a
 * duplicate (drop). A frame with `a > last + 1` opens the hole `last + 1 .. a - 1`: it becomes due
 * for REST backfill only after a short delay, so frames that were merely reordered fill it
 * first and are never fetched twice. Whatever REST returns is checked against the hole set
 * again, so an id is published once whichever path delivers it first.
 *
 * Holes are inclusive id ranges `{ lo, hi }` (`hi - lo + 1` ids), the one convention of the
 * pipeline: the engine's holes (persisted in its snapshots) and the trade's own `firstId ..
 * lastId` are inclusive too, so a hole reads the same wherever it is logged. The half-open
 * form appears only at the REST call (`toIdExclusive: hi + 1`), where the name says so.
 */

export interface HoleRange {
  /** First missing id. */
  readonly lo: number;
  /** Last missing id (inclusive). */
  readonly hi: number;
}

interface Hole {
  lo: number;
  hi: number;
  /** Not fetched before this time (backfill delay, then retry backoff). */
  notBefore: number;
  /** Failed fetch attempts so far. */
  attempts: number;
  /** A backfill covering it is running. */
  inFlight: boolean;
}

export type Observation =
  /** No id known yet for this symbol (fresh start, re-added): publish, start tracking. */
  | { readonly kind: 'first' }
  /** `last + 1`: publish. */
  | { readonly kind: 'next' }
  /** A hole opened below this id: publish the frame; `tooLarge` holes are not tracked. */
  | { readonly kind: 'gap'; readonly hole: HoleRange; readonly tooLarge: boolean }
  /** A late id that was missing: publish. */
  | { readonly kind: 'filled' }
  /** Already published (or given up on): drop. */
  | { readonly kind: 'duplicate' };

export interface SequenceOptions {
  /** Time between a hole opening and its first fetch. */
  readonly backfillDelayMs: number;
  /** Larger holes are reported (`tooLarge`) but not tracked or fetched. */
  readonly maxHoleIds: number;
}

export class SymbolSequence {
  #last: number | undefined;
  /** Lowest id published in this run (fresh starts only). */
  #min: number | undefined;
  /** `last` came from a previous run: ids at or below it were published then. */
  #seeded = false;
  /** Disjoint, ascending by `from`. */
  #holes: Hole[] = [];
  #generation = 0;
  readonly #options: SequenceOptions;

  constructor(options: SequenceOptions) {
    this.#options = options;
  }

  /** Highest id published, if any. */
  get last(): number | undefined {
    return this.#last;
  }

  /** Changes on {@link reset}; results of work started before a reset are stale. */
  get generation(): number {
    return this.#generation;
  }

  /** Ids currently missing (open holes). */
  get missing(): number {
    let n = 0;
    for (const h of this.#holes) n += h.hi - h.lo + 1;
    return n;
  }

  get holes(): HoleRange[] {
    return this.#holes.map((h) => ({ lo: h.lo, hi: h.hi }));
  }

  /**
   * Remembers `last` from a previous run (read back from the trades topic) so the first frame
   * reveals the hole since then. Ignored once ids are being tracked.
   */
  seed(last: number): void {
    if (this.#last === undefined) {
      this.#last = last;
      this.#seeded = true;
    }
  }

  /** Classifies an id that arrived over the websocket at `now`. */
  observe(id: number, now: number): Observation {
    const last = this.#last;
    if (last === undefined) {
      this.#last = id;
      this.#min = id;
      return { kind: 'first' };
    }
    if (id === last + 1) {
      this.#last = id;
      return { kind: 'next' };
    }
    if (id > last) {
      const hole = { lo: last + 1, hi: id - 1 };
      this.#last = id;
      const tooLarge = id - (last + 1) > this.#options.maxHoleIds;
      if (!tooLarge) {
        this.#holes.push({ ...hole, notBefore: now + this.#options.backfillDelayMs, attempts: 0, inFlight: false });
      }
      return { kind: 'gap', hole, tooLarge };
    }
    if (this.take(id)) return { kind: 'filled' };
    // A fresh start has no history: an id below the first one seen is not a duplicate but a
    // frame that was reordered ahead of it. It extends the tracked range downwards, and the
    // ids between it and the old start become a hole like any other.
    if (!this.#seeded && this.#min !== undefined && id < this.#min) {
      const min = this.#min;
      this.#min = id;
      if (id + 1 === min) return { kind: 'filled' };
      const hole = { lo: id + 1, hi: min - 1 };
      const tooLarge = min - (id + 1) > this.#options.maxHoleIds;
      if (!tooLarge) this.#holes.unshift({ ...hole, notBefore: now + this.#options.backfillDelayMs, attempts: 0, inFlight: false });
      return { kind: 'gap', hole, tooLarge };
    }
    return { kind: 'duplicate' };
  }

  /** Removes `id` from the open holes; true when it was missing (so it must be published now). */
  take(id: number): boolean {
    const i = this.#find(id);
    if (i < 0) return false;
    const h = this.#holes[i] as Hole;
    if (h.lo === h.hi) this.#holes.splice(i, 1);
    else if (id === h.lo) h.lo += 1;
    else if (id === h.hi) h.hi -= 1;
    else {
      this.#holes.splice(i + 1, 0, { ...h, lo: id + 1, hi: h.hi });
      h.hi = id - 1;
    }
    return true;
  }

  /** Holes due for a fetch at `now`, marked in flight (call {@link settle} when done). */
  takeDue(now: number): HoleRange[] {
    const due: HoleRange[] = [];
    for (const h of this.#holes) {
      if (h.inFlight || h.notBefore > now) continue;
      h.inFlight = true;
      due.push({ lo: h.lo, hi: h.hi });
    }
    return due;
  }

  /** Earliest time a hole becomes due, or undefined when none waits. */
  nextDueAt(): number | undefined {
    let at: number | undefined;
    for (const h of this.#holes) if (!h.inFlight && (at === undefined || h.notBefore < at)) at = h.notBefore;
    return at;
  }

  /**
   * After a fetch of `range` (whose trades were already {@link take}n): ids still missing in it
   * are either given up (`abandon`, returns how many) or scheduled again at `retryAt`.
   */
  settle(range: HoleRange, outcome: { readonly kind: 'abandon' } | { readonly kind: 'retry'; readonly retryAt: number; readonly maxAttempts: number }): number {
    let abandoned = 0;
    const keep: Hole[] = [];
    for (const h of this.#holes) {
      const inside = h.inFlight && h.lo >= range.lo && h.hi <= range.hi;
      if (!inside) {
        keep.push(h);
        continue;
      }
      if (outcome.kind === 'retry' && h.attempts + 1 < outcome.maxAttempts) {
        h.inFlight = false;
        h.attempts += 1;
        h.notBefore = outcome.retryAt;
        keep.push(h);
      } else {
        abandoned += h.hi - h.lo + 1;
      }
    }
    this.#holes = keep;
    return abandoned;
  }

  /** Forgets everything (symbol removed): the next id is `first` again. */
  reset(): void {
    this.#last = undefined;
    this.#min = undefined;
    this.#seeded = false;
    this.#holes = [];
    this.#generation += 1;
  }

  #find(id: number): number {
    let lo = 0;
    let hi = this.#holes.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const h = this.#holes[mid] as Hole;
      if (id < h.lo) hi = mid - 1;
      else if (id > h.hi) lo = mid + 1;
      else return mid;
    }
    return -1;
  }
}
