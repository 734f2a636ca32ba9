/**
 * Exact, versioned JSON snapshots of the engine state.
 *
 * Only what cannot be derived is stored: per bar its trades `[aggId, price, signedQty]`
 * (canonical decimal strings) plus the counters that need per-trade data we do not keep
 * (`trades`, `recovered`, `missingAggIds`). Sums, OHLC, the CVD path and the chain
 * (`cvd_open` of every bar, from the symbol's `cvdBase`) are rebuilt on restore, so a
 * snapshot cannot be internally inconsistent. Restoring and replaying the trades that followed
 * the snapshot yields exactly the rows the lost state would have produced.
 */
import { addTrade, createBar, type Bar } from './bar.js';
import { Decimal, parseDecimal } from './decimal.js';
import { EngineError } from './errors.js';
import { MINUTE_MS, resolveOptions } from './options.js';
import type { Hole, SequenceState } from './sequence.js';
import { relinkChain, type EngineState, type SymbolAnchors, type SymbolState } from './state.js';
import { MARKETS, symbolKey, type Market } from '@cvd/core';

export const STATE_FORMAT = 'cvd-engine-state';
/** 2: holes carry their lower neighbour's minute, the sequence `maxIdMinute`, options `holeHoldMs`. */
export const STATE_VERSION = 2;
/** Versions {@link deserializeState} restores (1: written before the hole hold existed). */
export const READABLE_STATE_VERSIONS: readonly number[] = [1, 2];

type EntryJson = [id: number, price: string, signedQty: string];
type HoleJson = [lo: number, hi: number, owner: number, low: number];

interface BarJson {
  ts: number;
  final: boolean;
  trades: number;
  recovered: number;
  missingAggIds: number;
  entries: EntryJson[];
}

interface SymbolJson {
  market: Market;
  symbol: string;
  cvdBase: string;
  seq: { minId: number | null; maxId: number | null; minIdOwner: number; maxIdMinute: number; settledId: number; holes: HoleJson[] };
  bars: BarJson[];
}

interface StateJson {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  options: { graceMs: number; horizonMs: number; maxHolesPerSymbol: number; holeHoldMs: number; anchors: Record<string, string> };
  watermarkMs: number | null;
  symbols: SymbolJson[];
  /** Runtime anchors (absent in snapshots written before they existed). */
  anchors?: AnchorJson[];
}

type AnchorJson = [key: string, value: string, points: [ts: number, cvd: string][]];

/** JSON snapshot of `state` (see README "State format"). Deterministic for a given state. */
export function serializeState(state: EngineState): string {
  const o = state.options;
  const json: StateJson = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    options: {
      graceMs: o.graceMs,
      horizonMs: o.horizonMs,
      maxHolesPerSymbol: o.maxHolesPerSymbol,
      holeHoldMs: o.holeHoldMs,
      anchors: { ...o.anchors },
    },
    watermarkMs: Number.isFinite(state.watermarkMs) ? state.watermarkMs : null,
    symbols: [...state.symbols.values()].map((sym) => ({
      market: sym.market,
      symbol: sym.symbol,
      cvdBase: sym.cvdBase.toString(),
      seq: {
        minId: sym.seq.minId,
        maxId: sym.seq.maxId,
        minIdOwner: sym.seq.minIdOwner,
        maxIdMinute: sym.seq.maxIdMinute,
        settledId: sym.seq.settledId,
        holes: sym.seq.holes.map((h): HoleJson => [h.lo, h.hi, h.owner, h.low]),
      },
      bars: sym.bars.map((bar) => ({
        ts: bar.ts,
        final: bar.final,
        trades: bar.trades,
        recovered: bar.recovered,
        missingAggIds: bar.missingAggIds,
        entries: bar.entries.map((e): EntryJson => [e.id, e.price.toString(), e.signedQty.toString()]),
      })),
    })),
  };
  if (state.anchors.size > 0) {
    json.anchors = [...state.anchors].map(([key, a]): AnchorJson => [key, a.value, a.points.map((p) => [p.ts, p.cvd.toString()])]);
  }
  return JSON.stringify(json);
}

function corrupt(path: string, what: string): never {
  throw new EngineError('invalid-state', `state snapshot: ${path}: ${what}`);
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) corrupt(path, 'expected an object');
  return v as Record<string, unknown>;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) corrupt(path, 'expected an array');
  return v;
}

function int(v: unknown, path: string, min = Number.MIN_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) corrupt(path, `expected an integer >= ${min}`);
  return v;
}

function dec(v: unknown, path: string): Decimal {
  const r = parseDecimal(v, { signed: true });
  if (!r.ok) corrupt(path, `bad decimal (${r.error})`);
  return r.value;
}

function readBar(v: unknown, path: string): Bar {
  const b = obj(v, path);
  const ts = int(b.ts, `${path}.ts`, 0);
  if (ts % MINUTE_MS !== 0) corrupt(`${path}.ts`, 'not a minute');
  if (typeof b.final !== 'boolean') corrupt(`${path}.final`, 'expected a boolean');
  const bar = createBar(ts, Decimal.ZERO, b.final); // cvdOpen is re-linked by the caller
  const entries = arr(b.entries, `${path}.entries`);
  if (entries.length === 0) corrupt(`${path}.entries`, 'a bar needs at least one trade');
  let previousId = -1;
  entries.forEach((ev, i) => {
    const p = `${path}.entries[${i}]`;
    const e = arr(ev, p);
    const id = int(e[0], `${p}[0]`, 0);
    if (id <= previousId) corrupt(p, 'ids must increase');
    previousId = id;
    const price = dec(e[1], `${p}[1]`);
    const signedQty = dec(e[2], `${p}[2]`);
    if (price.sign() <= 0 || signedQty.isZero()) corrupt(p, 'price must be > 0 and qty non-zero');
    const buyerMaker = signedQty.sign() < 0;
    addTrade(bar, { id, price, qty: buyerMaker ? signedQty.neg() : signedQty, buyerMaker, count: 0, recovered: false });
  });
  bar.trades = int(b.trades, `${path}.trades`, entries.length);
  bar.recovered = int(b.recovered, `${path}.recovered`, 0);
  if (bar.recovered > entries.length) corrupt(`${path}.recovered`, 'more than the bar has trades');
  bar.missingAggIds = int(b.missingAggIds, `${path}.missingAggIds`, 0);
  return bar;
}

/**
 * `lastBarTs` stands in for `maxIdMinute` in a version-1 snapshot (the newest bar usually holds
 * the highest id); a version-1 hole's lower neighbour is taken as its owner's minute. Either
 * only changes when a bar near such a hole turns final (bounded by `holeHoldMs`), never a value.
 */
function readSequence(v: unknown, path: string, version: number, lastBarTs: number | undefined): SequenceState {
  const s = obj(v, path);
  const minId = s.minId === null ? null : int(s.minId, `${path}.minId`, 0);
  const maxId = s.maxId === null ? null : int(s.maxId, `${path}.maxId`, 0);
  if ((minId === null) !== (maxId === null) || (minId !== null && maxId !== null && maxId < minId)) {
    corrupt(path, 'inconsistent minId/maxId');
  }
  const holes: Hole[] = arr(s.holes, `${path}.holes`).map((hv, i) => {
    const p = `${path}.holes[${i}]`;
    const h = arr(hv, p);
    const owner = int(h[2], `${p}[2]`, 0);
    return { lo: int(h[0], `${p}[0]`, 0), hi: int(h[1], `${p}[1]`, 0), owner, low: version >= 2 ? int(h[3], `${p}[3]`, 0) : owner };
  });
  let floor = minId ?? 0;
  for (const [i, h] of holes.entries()) {
    if (minId === null || maxId === null || h.lo <= floor || h.hi < h.lo || h.hi >= maxId) {
      corrupt(`${path}.holes[${i}]`, 'holes must be sorted, disjoint and inside (minId, maxId)');
    }
    floor = h.hi + 1;
  }
  const minIdOwner = int(s.minIdOwner, `${path}.minIdOwner`, 0);
  return {
    minId,
    maxId,
    minIdOwner,
    maxIdMinute: version >= 2 ? int(s.maxIdMinute, `${path}.maxIdMinute`, 0) : (lastBarTs ?? minIdOwner),
    settledId: int(s.settledId, `${path}.settledId`, -1),
    holes,
  };
}

/** Restores a state written by {@link serializeState}; throws `EngineError('invalid-state')` if corrupt. */
export function deserializeState(text: string): EngineState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new EngineError('invalid-state', 'state snapshot is not JSON', { cause });
  }
  const root = obj(parsed, '$');
  if (root.format !== STATE_FORMAT) corrupt('$.format', `expected ${STATE_FORMAT}`);
  if (typeof root.version !== 'number' || !READABLE_STATE_VERSIONS.includes(root.version)) {
    corrupt('$.version', `unsupported version ${String(root.version)} (this engine reads ${READABLE_STATE_VERSIONS.join(', ')})`);
  }
  const version = root.version;
  let options;
  try {
    options = resolveOptions(obj(root.options, '$.options'));
  } catch (cause) {
    throw new EngineError('invalid-state', 'state snapshot: bad options', { cause });
  }
  const watermarkMs = root.watermarkMs === null ? Number.NEGATIVE_INFINITY : int(root.watermarkMs, '$.watermarkMs');
  const anchors = readAnchors(root.anchors);
  const symbols = new Map<string, SymbolState>();
  arr(root.symbols, '$.symbols').forEach((sv, i) => {
    const path = `$.symbols[${i}]`;
    const s = obj(sv, path);
    const market = s.market;
    if (!MARKETS.includes(market as Market)) corrupt(`${path}.market`, 'unknown market');
    if (typeof s.symbol !== 'string' || s.symbol.length === 0) corrupt(`${path}.symbol`, 'expected a symbol');
    const key = symbolKey(market as Market, s.symbol);
    if (symbols.has(key)) corrupt(path, `duplicate symbol ${key}`);
    const bars = arr(s.bars, `${path}.bars`).map((bv, j) => readBar(bv, `${path}.bars[${j}]`));
    for (let j = 1; j < bars.length; j++) {
      if (bars[j]!.ts <= bars[j - 1]!.ts) corrupt(`${path}.bars[${j}]`, 'bars must be sorted by ts');
      if (bars[j - 1]!.final === false && bars[j]!.final) corrupt(`${path}.bars[${j}]`, 'final bars must be a prefix');
    }
    const sym: SymbolState = {
      market: market as Market,
      symbol: s.symbol,
      cvdBase: dec(s.cvdBase, `${path}.cvdBase`),
      seq: readSequence(s.seq, `${path}.seq`, version, bars.at(-1)?.ts),
      bars,
    };
    relinkChain(sym, 0, () => undefined, anchors.get(key)?.points);
    symbols.set(key, sym);
  });
  return { options, watermarkMs, symbols, anchors };
}

function readAnchors(v: unknown): Map<string, SymbolAnchors> {
  const out = new Map<string, SymbolAnchors>();
  if (v === undefined) return out;
  arr(v, '$.anchors').forEach((av, i) => {
    const path = `$.anchors[${i}]`;
    const a = arr(av, path);
    if (typeof a[0] !== 'string' || out.has(a[0])) corrupt(`${path}[0]`, 'expected a new market:SYMBOL key');
    const value = dec(a[1], `${path}[1]`).toString();
    let previous = Number.NEGATIVE_INFINITY;
    const points = arr(a[2], `${path}[2]`).map((pv, j) => {
      const pp = `${path}[2][${j}]`;
      const p = arr(pv, pp);
      const ts = int(p[0], `${pp}[0]`, 0);
      if (ts % MINUTE_MS !== 0 || ts <= previous) corrupt(`${pp}[0]`, 'points must be minutes, sorted');
      previous = ts;
      return { ts, cvd: dec(p[1], `${pp}[1]`) };
    });
    out.set(a[0], { value, points });
  });
  return out;
}
