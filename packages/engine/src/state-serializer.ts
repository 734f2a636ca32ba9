/**
 * Incremental snapshots: the same bytes as {@link serializeState}, at the cost of what changed.
 *
 * A state holds every trade of the revision horizon, but between two snapshots only a few bars
 * change (the forming ones, late revisions, finality, missing-id counts). The serializer keeps
 * the serialised trades and header of every bar it wrote and, on the next call, reuses each
 * one whose inputs are unchanged:
 *
 * - a bar's fragment depends on `final`, `trades`, `recovered`, `missingAggIds` and `entries`
 *   (`ts` never changes). Entries are only ever inserted (sorted by id, unique, each entry
 *   immutable), so the first `n` entries are unchanged iff the array is the same, it has at
 *   least `n` entries and entry `n-1` is still the same object — then only the new tail is
 *   serialised (the common case: trades in agg-id order append). Anything else re-serialises
 *   the bar.
 * - a symbol's own part (market, symbol, `cvdBase`, sequence state: a few holes) is small and
 *   written every call.
 *
 * Checking costs O(symbols + bars) comparisons; serialising costs O(new trades + changed bars),
 * and {@link StateSerializer.prepare} can pay that ahead, batch by batch. A bar's trades are
 * kept as bytes, in a few runs (one per call that appended, merged once there are many):
 * {@link concatPieces} copies them into one buffer at memcpy speed, with no intermediate string
 * of the whole state. Caches are keyed by bar (WeakMap): bars that leave the state are dropped
 * with it, and a serializer can serve any number of states.
 */
import type { Bar, TradeEntry } from './bar.js';
import { STATE_FORMAT, STATE_VERSION } from './serialize.js';
import { findBar, type EngineState } from './state.js';
import { symbolKey, type Market } from '@cvd/core';

interface BarCache {
  entries: readonly TradeEntry[];
  /** Entries serialised in `chunks`. */
  n: number;
  /** `entries[n - 1]` when serialised. */
  last: TradeEntry | undefined;
  /** The serialised entries in order: comma-separated runs, ASCII bytes. */
  chunks: Buffer[];
  final: boolean;
  trades: number;
  recovered: number;
  missingAggIds: number;
  /** `{"ts":…,"entries":[` */
  head: string;
}

/** Counters of the last {@link StateSerializer.serialize} call (for metrics and tests). */
export interface SerializeStats {
  symbols: number;
  bars: number;
  /** Bars whose fragment changed (new trades, finality, counters). */
  barsChanged: number;
  /** Trades serialised by this call (new tails and bars re-serialised whole). */
  entriesSerialized: number;
  /** Trades serialised ahead by `prepare` since the previous call. */
  entriesPrepared?: number;
  /** Pieces the output is made of. */
  pieces: number;
}

/** A bar's trade runs are merged into one once there are more than this. */
const MAX_CHUNKS = 8;
const COMMA = Buffer.from(',', 'latin1');

/** Entries `from…` as JSON array items. Ids, canonical decimals and punctuation: ASCII only. */
function entriesBytes(entries: readonly TradeEntry[], from: number): Buffer {
  const parts: string[] = [];
  for (let i = from; i < entries.length; i++) {
    const e = entries[i]!;
    parts.push(`[${e.id},"${e.price.toString()}","${e.signedQty.toString()}"]`);
  }
  return Buffer.from(parts.join(','), 'latin1');
}

/** Serialised state pieces, as {@link StateSerializer.pieces} returns them. */
export type StatePieces = readonly (string | Buffer)[];

/** The byte length of `pieces` once joined. */
export function piecesByteLength(pieces: StatePieces): number {
  let total = 0;
  for (const p of pieces) total += typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.length;
  return total;
}

/**
 * The UTF-8 bytes of `pieces`, in one buffer: a view of `into` when it is large enough (a caller
 * that snapshots often reuses one buffer and spares the page faults of a fresh one), otherwise a
 * new buffer.
 */
export function concatPieces(pieces: StatePieces, into?: Buffer): Buffer {
  const total = piecesByteLength(pieces);
  const out = into !== undefined && into.length >= total ? into.subarray(0, total) : Buffer.allocUnsafe(total);
  let at = 0;
  for (const p of pieces) {
    if (typeof p === 'string') at += out.write(p, at, 'utf8');
    else {
      out.set(p, at);
      at += p.length;
    }
  }
  return out;
}

export class StateSerializer {
  private bars = new WeakMap<Bar, BarCache>();
  #stats: SerializeStats = { symbols: 0, bars: 0, barsChanged: 0, entriesSerialized: 0, pieces: 0 };
  /** Trades serialised by {@link prepare} since the last {@link pieces}. */
  #prepared = 0;

  /** What the last call reused and rebuilt. */
  get stats(): Readonly<SerializeStats> {
    return this.#stats;
  }

  /** Exactly `serializeState(state)`, re-serialising only what changed since the previous call. */
  serialize(state: EngineState): string {
    return this.serializeToBuffer(state).toString('utf8');
  }

  /** The UTF-8 bytes of {@link serialize}, copied piece by piece into one buffer (no intermediate string). */
  serializeToBuffer(state: EngineState): Buffer {
    return concatPieces(this.pieces(state));
  }

  /**
   * The serialisation in pieces (strings and ASCII bytes) whose UTF-8 concatenation
   * ({@link concatPieces}) is `serializeState(state)`. The pieces are never changed afterwards:
   * a caller may capture them now and build the bytes later, while the state moves on.
   */
  pieces(state: EngineState): (string | Buffer)[] {
    const stats: SerializeStats = { symbols: 0, bars: 0, barsChanged: 0, entriesSerialized: 0, pieces: 0 };
    const o = state.options;
    const options = { graceMs: o.graceMs, horizonMs: o.horizonMs, maxHolesPerSymbol: o.maxHolesPerSymbol, holeHoldMs: o.holeHoldMs, anchors: { ...o.anchors } };
    const watermarkMs = Number.isFinite(state.watermarkMs) ? state.watermarkMs : null;
    const out: (string | Buffer)[] = [
      `{"format":${JSON.stringify(STATE_FORMAT)},"version":${STATE_VERSION},"options":${JSON.stringify(options)},"watermarkMs":${JSON.stringify(watermarkMs)},"symbols":[`,
    ];
    let firstSymbol = true;
    for (const sym of state.symbols.values()) {
      stats.symbols++;
      const s = sym.seq;
      const holes = s.holes.map((h) => `[${h.lo},${h.hi},${h.owner},${h.low}]`).join(',');
      out.push(
        `${firstSymbol ? '' : ','}{"market":${JSON.stringify(sym.market)},"symbol":${JSON.stringify(sym.symbol)},"cvdBase":"${sym.cvdBase.toString()}",` +
          `"seq":{"minId":${JSON.stringify(s.minId)},"maxId":${JSON.stringify(s.maxId)},"minIdOwner":${s.minIdOwner},"maxIdMinute":${s.maxIdMinute},"settledId":${s.settledId},"holes":[${holes}]},"bars":[`,
      );
      firstSymbol = false;
      let firstBar = true;
      for (const bar of sym.bars) {
        const c = this.refresh(bar, stats);
        out.push(firstBar ? c.head : ',' + c.head);
        firstBar = false;
        for (let i = 0; i < c.chunks.length; i++) {
          if (i > 0) out.push(COMMA);
          out.push(c.chunks[i]!);
        }
        out.push(']}');
      }
      out.push(']}');
    }
    let tail = ']';
    if (state.anchors.size > 0) {
      const anchors = [...state.anchors].map(([key, a]) => [key, a.value, a.points.map((p) => [p.ts, p.cvd.toString()])]);
      tail += `,"anchors":${JSON.stringify(anchors)}`;
    }
    out.push(tail + '}');
    stats.pieces = out.length;
    if (this.#prepared > 0) stats.entriesPrepared = this.#prepared;
    this.#prepared = 0;
    this.#stats = stats;
    return out;
  }

  /**
   * Serialises ahead the bars of `rows` (a batch's upserts, say), so that the next
   * {@link pieces} has only comparisons left: spread over the batches, a snapshot's
   * serialisation never lands in one long synchronous step. Never changes the output.
   */
  prepare(state: EngineState, rows: readonly { readonly ts: number; readonly market: Market; readonly symbol: string }[]): void {
    const scratch: SerializeStats = { symbols: 0, bars: 0, barsChanged: 0, entriesSerialized: 0, pieces: 0 };
    for (const r of rows) {
      const bars = state.symbols.get(symbolKey(r.market, r.symbol))?.bars;
      if (bars === undefined) continue;
      const at = findBar(bars, r.ts);
      if (at >= 0) this.refresh(bars[at]!, scratch);
    }
    this.#prepared += scratch.entriesSerialized;
  }

  /** The bar's cache, brought up to date. */
  private refresh(bar: Bar, stats: SerializeStats): BarCache {
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
      return c;
    }
    stats.barsChanged++;
    if (c !== undefined && c.entries === entries && c.n > 0 && c.n <= entries.length && entries[c.n - 1] === c.last) {
      // Only appended since (ids are unique and only ever inserted): serialise the tail.
      if (c.n < entries.length) {
        c.chunks.push(entriesBytes(entries, c.n));
        stats.entriesSerialized += entries.length - c.n;
      }
      // A final bar rarely changes again: one run, so a snapshot has fewer pieces to join.
      if (c.chunks.length > MAX_CHUNKS || (bar.final && c.chunks.length > 1)) c.chunks = [Buffer.concat(c.chunks.flatMap((b, i) => (i === 0 ? [b] : [COMMA, b])))];
    } else {
      c = { entries, n: 0, last: undefined, chunks: entries.length > 0 ? [entriesBytes(entries, 0)] : [], final: false, trades: 0, recovered: 0, missingAggIds: 0, head: '' };
      stats.entriesSerialized += entries.length;
      this.bars.set(bar, c);
    }
    c.n = entries.length;
    c.last = entries[entries.length - 1];
    c.final = bar.final;
    c.trades = bar.trades;
    c.recovered = bar.recovered;
    c.missingAggIds = bar.missingAggIds;
    c.head = `{"ts":${bar.ts},"final":${bar.final},"trades":${bar.trades},"recovered":${bar.recovered},"missingAggIds":${bar.missingAggIds},"entries":[`;
    return c;
  }
}
