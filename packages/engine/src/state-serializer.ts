/**
 * Incremental snapshots: the same bytes as {@link serializeState}, at the cost of what changed.
 *
 * A state holds every trade of the revision horizon, but between two snapshots only a few bars
 * change (the forming ones, late revisions, finality, missing-id counts). The serializer keeps
 * the JSON fragment of every bar and symbol it wrote and, on the next call, reuses each one
 * whose inputs are unchanged:
 *
 * - a bar's fragment depends on `final`, `trades`, `recovered`, `missingAggIds` and `entries`
 *   (`ts` never changes). Entries are only ever inserted (sorted by id, unique, each entry
 *   immutable), so the first `n` entries are unchanged iff the array is the same, it has at
 *   least `n` entries and entry `n-1` is still the same object — then only the new tail is
 *   serialised (the common case: trades in agg-id order append). Anything else re-serialises
 *   the bar.
 * - a symbol's fragment depends on its market, symbol, `cvdBase` (an immutable Decimal,
 *   replaced on change), its sequence state (re-serialised every time: a few holes) and its
 *   bars' fragments.
 *
 * Checking costs O(symbols + bars) comparisons; serialising costs O(new trades + changed bars).
 * Fragments are joined with `+` (V8 builds a rope, no copy) — the one copy of every byte
 * happens when the caller turns the string into bytes. Caches are keyed by object (WeakMap):
 * bars and symbols that leave the state are dropped with it, and a serializer can serve any
 * number of states.
 */
import type { Bar, TradeEntry } from './bar.js';
import type { Decimal } from './decimal.js';
import { STATE_FORMAT, STATE_VERSION } from './serialize.js';
import type { EngineState, SymbolState } from './state.js';

interface BarCache {
  entries: readonly TradeEntry[];
  /** Entries serialised in `entriesText`. */
  n: number;
  /** `entries[n - 1]` when serialised. */
  last: TradeEntry | undefined;
  /** The serialised entries, comma-separated, without brackets. */
  entriesText: string;
  final: boolean;
  trades: number;
  recovered: number;
  missingAggIds: number;
  text: string;
}

interface SymbolCache {
  cvdBase: Decimal;
  seqText: string;
  /** The bar fragments the text was built from (identity compared). */
  barTexts: string[];
  text: string;
}

/** Counters of the last {@link StateSerializer.serialize} call (for metrics and tests). */
export interface SerializeStats {
  symbols: number;
  /** Symbols whose fragment was rebuilt. */
  symbolsRebuilt: number;
  bars: number;
  /** Bars whose fragment was rebuilt. */
  barsRebuilt: number;
  /** Trades serialised (new tails and rebuilt bars). */
  entriesSerialized: number;
}

function entryText(e: TradeEntry): string {
  return `[${e.id},"${e.price.toString()}","${e.signedQty.toString()}"]`;
}

function entriesText(entries: readonly TradeEntry[], from: number): string {
  let out = '';
  for (let i = from; i < entries.length; i++) out += (i === from ? '' : ',') + entryText(entries[i]!);
  return out;
}

export class StateSerializer {
  private bars = new WeakMap<Bar, BarCache>();
  private symbols = new WeakMap<SymbolState, SymbolCache>();
  #stats: SerializeStats = { symbols: 0, symbolsRebuilt: 0, bars: 0, barsRebuilt: 0, entriesSerialized: 0 };

  /** What the last call reused and rebuilt. */
  get stats(): Readonly<SerializeStats> {
    return this.#stats;
  }

  /** Exactly `serializeState(state)`, re-serialising only what changed since the previous call. */
  serialize(state: EngineState): string {
    const stats: SerializeStats = { symbols: 0, symbolsRebuilt: 0, bars: 0, barsRebuilt: 0, entriesSerialized: 0 };
    const o = state.options;
    const options = { graceMs: o.graceMs, horizonMs: o.horizonMs, maxHolesPerSymbol: o.maxHolesPerSymbol, anchors: { ...o.anchors } };
    const watermarkMs = Number.isFinite(state.watermarkMs) ? state.watermarkMs : null;
    let out = `{"format":${JSON.stringify(STATE_FORMAT)},"version":${STATE_VERSION},"options":${JSON.stringify(options)},"watermarkMs":${JSON.stringify(watermarkMs)},"symbols":[`;
    let first = true;
    for (const sym of state.symbols.values()) {
      out += (first ? '' : ',') + this.symbolText(sym, stats);
      first = false;
    }
    out += ']';
    if (state.anchors.size > 0) {
      const anchors = [...state.anchors].map(([key, a]) => [key, a.value, a.points.map((p) => [p.ts, p.cvd.toString()])]);
      out += `,"anchors":${JSON.stringify(anchors)}`;
    }
    this.#stats = stats;
    return out + '}';
  }

  private symbolText(sym: SymbolState, stats: SerializeStats): string {
    stats.symbols++;
    const s = sym.seq;
    const holes = s.holes.map((h) => `[${h.lo},${h.hi},${h.owner}]`).join(',');
    const seqText = `{"minId":${JSON.stringify(s.minId)},"maxId":${JSON.stringify(s.maxId)},"minIdOwner":${s.minIdOwner},"settledId":${s.settledId},"holes":[${holes}]}`;
    const barTexts = sym.bars.map((bar) => this.barText(bar, stats));
    const cached = this.symbols.get(sym);
    if (
      cached !== undefined &&
      cached.cvdBase === sym.cvdBase &&
      cached.seqText === seqText &&
      cached.barTexts.length === barTexts.length &&
      cached.barTexts.every((t, i) => t === barTexts[i])
    ) {
      return cached.text;
    }
    stats.symbolsRebuilt++;
    let text = `{"market":${JSON.stringify(sym.market)},"symbol":${JSON.stringify(sym.symbol)},"cvdBase":"${sym.cvdBase.toString()}","seq":${seqText},"bars":[`;
    for (let i = 0; i < barTexts.length; i++) text += (i === 0 ? '' : ',') + barTexts[i]!;
    text += ']}';
    this.symbols.set(sym, { cvdBase: sym.cvdBase, seqText, barTexts, text });
    return text;
  }

  private barText(bar: Bar, stats: SerializeStats): string {
    stats.bars++;
    const entries = bar.entries;
    let c = this.bars.get(bar);
    if (
      c !== undefined &&
      c.entries === entries &&
      c.n === entries.length &&
      c.final === bar.final &&
      c.trades === bar.trades &&
      c.recovered === bar.recovered &&
      c.missingAggIds === bar.missingAggIds
    ) {
      return c.text;
    }
    stats.barsRebuilt++;
    if (c !== undefined && c.entries === entries && c.n > 0 && c.n <= entries.length && entries[c.n - 1] === c.last) {
      // Only appended since: serialise the tail.
      if (c.n < entries.length) {
        c.entriesText += ',' + entriesText(entries, c.n);
        stats.entriesSerialized += entries.length - c.n;
      }
    } else {
      c = { entries, n: 0, last: undefined, entriesText: entriesText(entries, 0), final: false, trades: 0, recovered: 0, missingAggIds: 0, text: '' };
      stats.entriesSerialized += entries.length;
      this.bars.set(bar, c);
    }
    c.n = entries.length;
    c.last = entries[entries.length - 1];
    c.final = bar.final;
    c.trades = bar.trades;
    c.recovered = bar.recovered;
    c.missingAggIds = bar.missingAggIds;
    c.text = `{"ts":${bar.ts},"final":${bar.final},"trades":${bar.trades},"recovered":${bar.recovered},"missingAggIds":${bar.missingAggIds},"entries":[${c.entriesText}]}`;
    return c.text;
  }
}
