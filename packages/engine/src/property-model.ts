/**
 * The model behind the engine's property tests: a deliberately simple reference computed
 * from the set of trades applied so far, the scenario generators and the continuity check.
 * Kept apart from the properties themselves (`engine.property.test.ts`) so each file stays
 * readable; nothing here is part of the engine's API.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AggTrade, Market } from '@cvd/core';
import type { BarRow } from './bar.js';
import type { EngineTrade } from './trade.js';
import { seededRandom } from '@cvd/core';

const T0 = 1_700_000_000_000;
export const START = T0 - (T0 % 60_000); // a minute boundary

// ---------------------------------------------------------------- reference (simple, separate)

/** "12.5" -> 1250000000n (scale 8); the generator never makes more than 8 decimals. */
export function sat(text: string): bigint {
  const negative = text.startsWith('-');
  const [i, f = ''] = (negative ? text.slice(1) : text).split('.');
  const units = BigInt(i! + f.padEnd(8, '0'));
  return negative ? -units : units;
}

export function fmt(units: bigint, scale: number): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const base = 10n ** BigInt(scale);
  let frac = (abs % base).toString().padStart(scale, '0');
  while (frac.endsWith('0')) frac = frac.slice(0, -1);
  const text = frac === '' ? `${abs / base}` : `${abs / base}.${frac}`;
  return negative && text !== '0' ? `-${text}` : text;
}

export function rowKey(r: { ts: number; market: string; symbol: string }): string {
  return `${r.ts}|${r.market}|${r.symbol}`;
}

/**
 * The hole hold (see the engine README "Finality"), from first principles: the holes are the
 * gaps between consecutive applied ids, each spanning the minutes of its two neighbours; holes
 * whose owner (upper neighbour) left the horizon before this batch are settled. A bar is final
 * once its minute is past `m + 60s + grace` and no open hole spans it (or the hold is over),
 * and only if every earlier bar is final; a bar once final stays final (`sticky`: the keys
 * final before this batch), and a bar before a final one is final.
 */
export interface HoldModel {
  readonly holdMs: number;
  readonly horizonMs: number;
  /** The highest watermark before this batch (holes settled then are gone). */
  readonly previousWatermark: number;
  readonly sticky: ReadonlySet<string>;
}

export function reference(
  trades: readonly EngineTrade[],
  watermark: number,
  graceMs: number,
  anchors: Readonly<Record<string, string>>,
  hold: HoldModel = { holdMs: 0, horizonMs: 0, previousWatermark: Number.NEGATIVE_INFINITY, sticky: new Set() },
): Map<string, BarRow> {
  const bySymbol = new Map<string, EngineTrade[]>();
  for (const t of trades) {
    const k = `${t.market}:${t.symbol}`;
    const list = bySymbol.get(k) ?? [];
    if (!list.some((x) => x.aggId === t.aggId)) list.push(t);
    bySymbol.set(k, list);
  }
  const out = new Map<string, BarRow>();
  for (const [key, list] of bySymbol) {
    list.sort((a, b) => a.aggId - b.aggId);
    const missing = new Map<number, number>();
    const minutes = new Map<number, EngineTrade[]>();
    let prev: number | undefined;
    let prevMinute = 0;
    const spans: [number, number][] = [];
    for (const t of list) {
      const m = Math.floor(t.tradeTimeMs / 60_000) * 60_000;
      if (prev !== undefined) missing.set(m, (missing.get(m) ?? 0) + (t.aggId - prev - 1));
      const settled = m + 60_000 + graceMs + hold.horizonMs <= hold.previousWatermark;
      if (prev !== undefined && t.aggId - prev > 1 && !settled) spans.push([Math.min(prevMinute, m), Math.max(prevMinute, m)]);
      prev = t.aggId;
      prevMinute = m;
      minutes.set(m, [...(minutes.get(m) ?? []), t]);
    }
    const holdMs = Math.min(hold.holdMs, hold.horizonMs);
    const mayBeFinal = (m: number): boolean =>
      watermark >= m + 60_000 + graceMs && (watermark >= m + 60_000 + graceMs + holdMs || !spans.some(([a, b]) => a <= m && m <= b));
    const sorted = [...minutes.keys()].sort((a, b) => a - b);
    let lastSticky = Number.NEGATIVE_INFINITY;
    for (const m of sorted) if (hold.sticky.has(`${m}|${key.replace(':', '|')}`)) lastSticky = m;
    const final = new Set<number>();
    for (const m of sorted) {
      if (m <= lastSticky) final.add(m);
      else if (mayBeFinal(m)) final.add(m);
      else break;
    }
    let cvd = sat(anchors[key] ?? '0');
    for (const m of [...minutes.keys()].sort((a, b) => a - b)) {
      const ts = minutes.get(m)!;
      let buy = 0n;
      let sell = 0n;
      let buyQ = 0n;
      let sellQ = 0n;
      let hi = sat(ts[0]!.price);
      let lo = hi;
      const cvdOpen = cvd;
      let cvdHi = cvd;
      let cvdLo = cvd;
      let count = 0;
      let recovered = 0;
      for (const t of ts) {
        const p = sat(t.price);
        const q = sat(t.qty);
        if (p > hi) hi = p;
        if (p < lo) lo = p;
        if (t.buyerMaker) {
          sell += q;
          sellQ += p * q;
          cvd -= q;
        } else {
          buy += q;
          buyQ += p * q;
          cvd += q;
        }
        if (cvd > cvdHi) cvdHi = cvd;
        if (cvd < cvdLo) cvdLo = cvd;
        count += t.lastId - t.firstId + 1;
        if (t.recovered) recovered++;
      }
      const first = ts[0]!;
      const last = ts[ts.length - 1]!;
      const row: BarRow = {
        ts: m,
        market: first.market,
        symbol: first.symbol,
        open: fmt(sat(first.price), 8),
        high: fmt(hi, 8),
        low: fmt(lo, 8),
        close: fmt(sat(last.price), 8),
        volume: fmt(buy + sell, 8),
        buyVolume: fmt(buy, 8),
        sellVolume: fmt(sell, 8),
        quoteVolume: fmt(buyQ + sellQ, 16),
        buyQuoteVolume: fmt(buyQ, 16),
        sellQuoteVolume: fmt(sellQ, 16),
        delta: fmt(buy - sell, 8),
        quoteDelta: fmt(buyQ - sellQ, 16),
        cvdOpen: fmt(cvdOpen, 8),
        cvdHigh: fmt(cvdHi, 8),
        cvdLow: fmt(cvdLo, 8),
        cvdClose: fmt(cvd, 8),
        trades: count,
        aggTrades: ts.length,
        firstAggId: first.aggId,
        lastAggId: last.aggId,
        missingAggIds: missing.get(m) ?? 0,
        recovered,
        final: final.has(m),
      };
      out.set(rowKey(row), row);
    }
  }
  return out;
}

// ---------------------------------------------------------------- generators

/** The project's seeded PRNG (mulberry32), so a failing seed reproduces. */
export const mulberry32 = seededRandom;

/** An 8-decimal amount in one of the spellings Binance uses. */
function amount(units: bigint, style: number): string {
  const text = `${units / 100_000_000n}.${(units % 100_000_000n).toString().padStart(8, '0')}`;
  if (style === 0) return text; // "0.35280000"
  const trimmed = text.replace(/0+$/, '').replace(/\.$/, '');
  return style === 1 ? trimmed : trimmed.includes('.') ? trimmed : `${trimmed}.0`;
}

const SYMBOLS: ReadonlyArray<readonly [Market, string]> = [
  ['spot', 'BTCUSDT'],
  ['usdm', 'BTCUSDT'],
  ['coinm', 'BTCUSD_PERP'],
  ['spot', 'ETHUSDT'],
  ['usdm', '1000SHIBUSDT'],
];

const tradeStep = fc.record({
  skip: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 4 }) }),
  dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 45_000 })),
  qty: fc.oneof(fc.bigInt({ min: 1n, max: 100_000_000n }), fc.bigInt({ min: 1n, max: 10n ** 13n })),
  price: fc.bigInt({ min: 1n, max: 10n ** 13n }),
  style: fc.integer({ min: 0, max: 2 }),
  buyerMaker: fc.boolean(),
  recovered: fc.boolean(),
  extra: fc.integer({ min: 0, max: 4 }),
});

export const scenario = fc.record({
  graceMs: fc.constantFrom(0, 5_000, 30_000),
  /** The engine's `holeHoldMs` (0: no hold). */
  holeHoldMs: fc.constantFrom(0, 0, 30_000, 120_000, 600_000),
  horizonMs: fc.constantFrom(0, 60_000, 180_000, 900_000),
  symbols: fc.uniqueArray(fc.integer({ min: 0, max: SYMBOLS.length - 1 }), { minLength: 1, maxLength: 4 }),
  steps: fc.array(fc.array(tradeStep, { minLength: 1, maxLength: 40 }), { minLength: 4, maxLength: 4 }),
  firstIds: fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 4, maxLength: 4 }),
  /** Monotone: times follow ids (Binance). Otherwise: times anywhere in a window. */
  monotone: fc.boolean(),
  seed: fc.integer(),
  batches: fc.integer({ min: 1, max: 12 }),
  duplicateRate: fc.constantFrom(0, 0.1, 0.5),
  /** Starting CVD per symbol (index into `symbols`), 8 decimals, signed. */
  anchors: fc.array(fc.option(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n })), { minLength: 4, maxLength: 4 }),
  snapshotRate: fc.constantFrom(0, 0.3, 1),
});

export type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

export function buildTrades(s: Scenario, random: () => number): AggTrade[] {
  const out: AggTrade[] = [];
  s.symbols.forEach((symbolIndex, i) => {
    const [market, symbol] = SYMBOLS[symbolIndex]!;
    let aggId = s.firstIds[i]!;
    let time = START + Math.floor(random() * 90_000);
    let tradeId = aggId * 3;
    for (const step of s.steps[i]!) {
      aggId += step.skip; // skipped ids are holes that are never filled
      time += step.dt;
      const t = s.monotone ? time : START + Math.floor(random() * 6 * 60_000);
      out.push({
        market,
        symbol,
        aggId,
        price: amount(step.price, step.style),
        qty: amount(step.qty, (step.style + 1) % 3),
        firstId: tradeId,
        lastId: tradeId + step.extra,
        tradeTimeMs: t,
        eventTimeMs: t,
        buyerMaker: step.buyerMaker,
        recovered: step.recovered,
        receivedAtMs: t,
      });
      tradeId += step.extra + 1;
    }
  });
  return out;
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export const minuteOf = (t: number) => t - (t % 60_000);

export function anchorsOf(s: Scenario): Record<string, string> {
  const out: Record<string, string> = {};
  s.symbols.forEach((symbolIndex, i) => {
    const units = s.anchors[i];
    if (units === null || units === undefined) return;
    const [market, symbol] = SYMBOLS[symbolIndex]!;
    out[`${market}:${symbol}`] = fmt(units, 8);
  });
  return out;
}

// ---------------------------------------------------------------- the property

export function checkContinuity(table: Map<string, BarRow>, anchors: Readonly<Record<string, string>>): void {
  const bySymbol = new Map<string, BarRow[]>();
  for (const r of table.values()) {
    const k = `${r.market}:${r.symbol}`;
    bySymbol.set(k, [...(bySymbol.get(k) ?? []), r]);
  }
  for (const [key, rows] of bySymbol) {
    rows.sort((a, b) => a.ts - b.ts);
    assert.equal(rows[0]!.cvdOpen, fmt(sat(anchors[key] ?? '0'), 8), 'CVD starts at 0 or the anchor');
    rows.forEach((r, i) => {
      // invariant 4, checked with plain BigInt on the strings
      assert.equal(fmt(sat(r.cvdOpen) + sat(r.delta), 8), r.cvdClose);
      if (i > 0) assert.equal(r.cvdOpen, rows[i - 1]!.cvdClose, 'cvd_open(n) = cvd_close(n-1)');
      assert.equal(fmt(sat(r.buyVolume) - sat(r.sellVolume), 8), r.delta);
      assert.ok(sat(r.cvdHigh) >= sat(r.cvdOpen) && sat(r.cvdHigh) >= sat(r.cvdClose));
      assert.ok(sat(r.cvdLow) <= sat(r.cvdOpen) && sat(r.cvdLow) <= sat(r.cvdClose));
    });
  }
}
