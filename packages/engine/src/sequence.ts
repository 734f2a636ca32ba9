/**
 * Agg-id bookkeeping for one symbol: dedupe and holes, in bounded memory.
 *
 * Instead of a set of every id ever seen we keep the seen range `[minId, maxId]` and the
 * list of open holes inside it (ids not seen yet), sorted by id. Every hole is owned by the
 * bar holding the id just above it (`hi + 1`): that bar's `missing_agg_ids` counts it. There
 * is never a hole below `minId` — a trade below it opens one, owned by the bar of `minId`.
 *
 * Holes owned by bars that left the horizon are dropped ("settled"); `settledId` remembers
 * the highest settled id so that an id at or below it, not in an open hole, is known to be
 * "seen or given up" rather than mistaken for a duplicate of something we still track.
 */

/**
 * Missing ids `lo..hi`, inclusive (`hi - lo + 1` ids): the pipeline's one hole convention,
 * shared with ingest's id tracking. Inclusive because the trade's own `firstId..lastId` is,
 * and because this form is what the engine's snapshots persist (`[lo, hi, owner]`).
 */
export interface Hole {
  /** First missing id. */
  lo: number;
  /** Last missing id (inclusive). */
  hi: number;
  /** Minute (bar ts) of the trade with id `hi + 1`, which owns the hole. */
  owner: number;
  /**
   * Minute of the trade with id `lo - 1` (the hole's lower neighbour). The missing trades lie
   * between the two neighbours in time, so in minutes `low..owner`: bars there wait for them
   * (see `holeCouldHold`). Snapshots written before it existed restore it as `owner`.
   */
  low: number;
}

export interface SequenceState {
  /** Lowest and highest id seen; null before the first trade. */
  minId: number | null;
  maxId: number | null;
  /** Minute of the trade holding `minId` (owner of a hole opened below it). */
  minIdOwner: number;
  /** Minute of the trade holding `maxId` (lower neighbour of a hole opened above it). */
  maxIdMinute: number;
  /** Ids <= settledId that are not in an open hole are no longer tracked individually. */
  settledId: number;
  /** Open holes, disjoint, sorted by `lo`, all inside (minId, maxId). */
  holes: Hole[];
}

/** How an id relates to what was seen. */
export type IdClass = 'new' | 'seen' | 'settled';

/** A change of a bar's `missing_agg_ids`. */
export interface MissingAdjustment {
  readonly owner: number;
  readonly delta: number;
}

export function emptySequence(): SequenceState {
  return { minId: null, maxId: null, minIdOwner: 0, maxIdMinute: 0, settledId: -1, holes: [] };
}

/** Index of the open hole containing `id`, or -1. */
export function findHole(holes: readonly Hole[], id: number): number {
  let lo = 0;
  let hi = holes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const h = holes[mid]!;
    if (id < h.lo) hi = mid - 1;
    else if (id > h.hi) lo = mid + 1;
    else return mid;
  }
  return -1;
}

export function classifyId(seq: SequenceState, id: number): IdClass {
  if (seq.minId === null || seq.maxId === null || id < seq.minId || id > seq.maxId) return 'new';
  if (findHole(seq.holes, id) >= 0) return 'new';
  return id <= seq.settledId ? 'settled' : 'seen';
}

/**
 * Records a `new` id held by the bar of `minute`; returns the `missing_agg_ids` changes of
 * the bars concerned (the owner of a filled or split hole, and the trade's own bar).
 */
export function recordId(seq: SequenceState, id: number, minute: number): MissingAdjustment[] {
  if (seq.minId === null || seq.maxId === null) {
    seq.minId = id;
    seq.maxId = id;
    seq.minIdOwner = minute;
    seq.maxIdMinute = minute;
    return [];
  }
  if (id > seq.maxId) {
    const gap = id - seq.maxId - 1;
    const out: MissingAdjustment[] = [];
    if (gap > 0) {
      seq.holes.push({ lo: seq.maxId + 1, hi: id - 1, owner: minute, low: seq.maxIdMinute });
      out.push({ owner: minute, delta: gap });
    }
    seq.maxId = id;
    seq.maxIdMinute = minute;
    return out;
  }
  if (id < seq.minId) {
    const gap = seq.minId - id - 1;
    const out: MissingAdjustment[] = [];
    if (gap > 0) {
      seq.holes.unshift({ lo: id + 1, hi: seq.minId - 1, owner: seq.minIdOwner, low: minute });
      out.push({ owner: seq.minIdOwner, delta: gap });
    }
    seq.minId = id;
    seq.minIdOwner = minute;
    return out;
  }
  const index = findHole(seq.holes, id);
  if (index < 0) throw new Error(`recordId: id ${id} was already seen`); // caller bug, not input
  const hole = seq.holes[index]!;
  const parts: Hole[] = [];
  const out: MissingAdjustment[] = [{ owner: hole.owner, delta: -(id - hole.lo + 1) }];
  if (id > hole.lo) {
    parts.push({ lo: hole.lo, hi: id - 1, owner: minute, low: hole.low });
    out.push({ owner: minute, delta: id - hole.lo });
  }
  if (id < hole.hi) parts.push({ lo: id + 1, hi: hole.hi, owner: hole.owner, low: minute });
  seq.holes.splice(index, 1, ...parts);
  return out;
}

/**
 * Whether an open hole's missing trades could fall into minute `ts`: the minute lies between
 * the minutes of the hole's two neighbours (`low..owner`, either order: trade times need not
 * follow ids). Such a bar is held forming while the hole is open (see `finalAfter`).
 */
export function holeCouldHold(seq: SequenceState, ts: number): boolean {
  for (const h of seq.holes) {
    if (h.low <= h.owner ? h.low <= ts && ts <= h.owner : h.owner <= ts && ts <= h.low) return true;
  }
  return false;
}

/** Drops holes owned by minutes <= `expiredUpTo` (their bars left the horizon). */
export function settleExpired(seq: SequenceState, expiredUpTo: number): void {
  if (seq.holes.length === 0) return;
  let settled = seq.settledId;
  const kept = seq.holes.filter((h) => {
    if (h.owner > expiredUpTo) return true;
    if (h.hi > settled) settled = h.hi;
    return false;
  });
  if (kept.length !== seq.holes.length) {
    seq.holes = kept;
    seq.settledId = settled;
  }
}

/** Settles the lowest holes beyond `max`; returns how many were settled. */
export function enforceHoleCap(seq: SequenceState, max: number): number {
  const excess = seq.holes.length - max;
  if (excess <= 0) return 0;
  const dropped = seq.holes.splice(0, excess);
  for (const h of dropped) if (h.hi > seq.settledId) seq.settledId = h.hi;
  return excess;
}
