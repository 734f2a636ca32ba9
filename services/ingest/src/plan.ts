/**
 * Stream-to-connection planning (pure). A market's streams are spread over logical
 * connections ("slots") of at most `cap` streams each. New streams go to existing slots with
 * room first — as live SUBSCRIBEs, so adding a symbol never reopens a connection — and only
 * the overflow opens new slots.
 */

export interface SlotLoad {
  readonly id: number;
  /** Streams currently assigned. */
  readonly count: number;
}

export interface AdditionPlan {
  /** Streams to SUBSCRIBE on existing slots, by slot id. */
  readonly toExisting: ReadonlyMap<number, readonly string[]>;
  /** Stream sets of slots to open, each at most `cap`. */
  readonly newSlots: readonly (readonly string[])[];
}

/**
 * Places `streams` (assumed not yet assigned anywhere) onto `slots` in id order, filling each
 * up to `cap`, then chunks the rest into new slots.
 */
export function planAdditions(slots: readonly SlotLoad[], streams: readonly string[], cap: number): AdditionPlan {
  if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`cap must be a positive integer, got ${cap}`);
  const toExisting = new Map<number, string[]>();
  let i = 0;
  for (const slot of [...slots].sort((a, b) => a.id - b.id)) {
    const room = cap - slot.count;
    if (room <= 0) continue;
    const take = streams.slice(i, i + room);
    if (take.length === 0) break;
    toExisting.set(slot.id, take);
    i += take.length;
  }
  return { toExisting, newSlots: chunk(streams.slice(i), cap) };
}

/** Splits `items` into consecutive chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The streams named in a connection's URL and the ones to SUBSCRIBE after it opens: long URLs
 * are refused by proxies and servers (Node's default header limit is 16 KiB), so only the
 * first `urlStreams` go into the URL; the rest follow in requests of `batch` params.
 */
export function splitInitialStreams(
  streams: readonly string[],
  urlStreams: number,
  batch: number,
): { readonly url: readonly string[]; readonly requests: readonly (readonly string[])[] } {
  return { url: streams.slice(0, urlStreams), requests: chunk(streams.slice(urlStreams), batch) };
}
