/**
 * The desired symbol set and its difference to the topic. Pure functions: no Kafka, no clock
 * (time comes in as an argument).
 *
 * effective set = file ∪ selectors ∪ api-added − api-removed
 *
 * Each key gets ONE record; its `source` is the strongest claim: `api` (an admin API add or
 * removal) over `file` over `selector`. API claims win so that the topic itself remembers
 * them: at start-up, records with `source: "api"` are the API state (`enabled: true` = added,
 * `enabled: false` = removed by the API; consumers treat a disabled record like a tombstone).
 */
import { MARKETS, type Market } from '@cvd/core';
import { key, type SymbolConfig, type SymbolConfigInput } from '@cvd/schemas';

export type SymbolSource = 'api' | 'file' | 'selector';

/** Admin API changes, as sets of `market:SYMBOL` keys. */
export interface ApiState {
  readonly added: Set<string>;
  readonly removed: Set<string>;
}

export interface DesiredEntry {
  readonly market: Market;
  readonly symbol: string;
  /** false = removed through the API although the file or a selector lists it. */
  readonly enabled: boolean;
  /** The source written to the topic. */
  readonly source: SymbolSource;
  /** Every source that claims the symbol, strongest first. */
  readonly sources: readonly SymbolSource[];
}

/** Per market, a list of symbols, or `undefined` when that source's current answer is unknown. */
export type MarketLists = Readonly<Record<Market, readonly string[] | undefined>>;

export interface DesiredInput {
  /**
   * The file's symbols per market. `undefined` for a market (or the whole argument) means
   * "not known" (no valid file read yet): the topic's `file` records of that market are kept.
   */
  readonly file: MarketLists | undefined;
  /** The selectors' symbols per market; `undefined` = not resolved: topic `selector` records are kept. */
  readonly selected: MarketLists | undefined;
  readonly api: ApiState;
  /** The topic's current content (decodable records; null = tombstone). */
  readonly current: ReadonlyMap<string, SymbolConfig | null>;
}

/** The API state recorded on the topic (records with `source: "api"`). */
export function apiStateFromTopic(current: ReadonlyMap<string, SymbolConfig | null>): ApiState {
  const state: ApiState = { added: new Set(), removed: new Set() };
  for (const [k, c] of current) {
    if (c === null || c.source !== 'api') continue;
    (c.enabled ? state.added : state.removed).add(k);
  }
  return state;
}

function claims(lists: MarketLists | undefined, source: SymbolSource, current: ReadonlyMap<string, SymbolConfig | null>): Set<string> {
  const out = new Set<string>();
  for (const market of MARKETS) {
    const list = lists?.[market];
    if (list !== undefined) {
      for (const symbol of list) out.add(key(market, symbol));
    } else {
      // Unknown answer: keep what the topic says this source published, never guess a removal.
      for (const [k, c] of current) if (c !== null && c.enabled && c.market === market && c.source === source) out.add(k);
    }
  }
  return out;
}

/** The desired set, by key. */
export function computeDesired(input: DesiredInput): Map<string, DesiredEntry> {
  const file = claims(input.file, 'file', input.current);
  const selected = claims(input.selected, 'selector', input.current);
  const { added, removed } = input.api;
  const keys = new Set([...added, ...removed, ...file, ...selected]);
  const out = new Map<string, DesiredEntry>();
  for (const k of [...keys].sort()) {
    const i = k.indexOf(':');
    const market = k.slice(0, i) as Market;
    const symbol = k.slice(i + 1);
    const sources: SymbolSource[] = [];
    if (added.has(k) || removed.has(k)) sources.push('api');
    if (file.has(k)) sources.push('file');
    if (selected.has(k)) sources.push('selector');
    if (removed.has(k)) {
      // Kept (not pruned when the file drops the symbol) so that a selector whose answer is
      // briefly unknown, or a file edited back and forth, cannot resurrect a removed symbol;
      // a POST of the symbol clears it.
      out.set(k, { market, symbol, enabled: false, source: 'api', sources });
      continue;
    }
    out.set(k, { market, symbol, enabled: true, source: sources[0] ?? 'api', sources });
  }
  return out;
}

/** A record to publish: a value, or null for a tombstone. */
export interface OutRecord {
  readonly key: string;
  readonly value: SymbolConfigInput | null;
}

/**
 * The records that turn the topic's `current` content into `desired`: a record for every new
 * or changed key (enabled or source differ; anchorCvd and notes are carried over), a
 * tombstone for every live key no longer desired. Keys already in the desired state produce
 * nothing, so an unchanged set publishes nothing. Sorted by key.
 */
export function diffSymbols(
  current: ReadonlyMap<string, SymbolConfig | null>,
  desired: ReadonlyMap<string, DesiredEntry>,
  nowMs: number,
): OutRecord[] {
  const out: OutRecord[] = [];
  for (const [k, d] of desired) {
    const c = current.get(k) ?? null;
    if (c !== null && c.market === d.market && c.symbol === d.symbol && c.enabled === d.enabled && c.source === d.source) continue;
    out.push({
      key: k,
      value: {
        market: d.market,
        symbol: d.symbol,
        enabled: d.enabled,
        source: d.source,
        updatedAtMs: nowMs,
        anchorCvd: c?.anchorCvd ?? null,
        notes: c?.notes ?? null,
      },
    });
  }
  for (const [k, c] of current) if (c !== null && !desired.has(k)) out.push({ key: k, value: null });
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
