/**
 * Property tests of invariants 1, 3 and 4: for random trade sets, random arrival order,
 * duplicates, batch splits, watermark schedules and snapshot/restore points, the table of
 * latest upserts equals — after every batch, value for value — a deliberately simple reference
 * computed here from the set of trades applied so far.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { BarRow } from './bar.js';
import { applyBatch } from './engine.js';
import { createState, type EngineState } from './state.js';
import { deserializeState, serializeState } from './serialize.js';
import type { EngineTrade, Market } from './trade.js';

const T0 = 1_700_000_000_000;
const START = T0 - (T0 % 60_000); // a minute boundary

// ---------------------------------------------------------------- reference (simple, separate)

/** "12.5" -> 1250000000n (scale 8); the generator never makes more than 8 decimals. */
function sat(text: string): bigint {
  const negative = text.startsWith('-');
  const [i, f = ''] = (negative ? text.slice(1) : text).split('.');
  const units = BigInt(i! + f.padEnd(8, '0'));
  return negative ? -units : units;
}

function fmt(units: bigint, scale: number): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const base = 10n ** BigInt(scale);
  let frac = (abs % base).toString().padStart(scale, '0');
  while (frac.endsWith('0')) frac = frac.slice(0, -1);
  const text = frac === '' ? `${abs / base}` : `${abs / base}.${frac}`;
  return negative && text !== '0' ? `-${text}` : text;
}

function rowKey(r: { ts: number; market: string; symbol: string }): string {
  return `${r.ts}|${r.market}|${r.symbol}`;
}

function reference(
  trades: readonly EngineTrade[],
  watermark: number,
  graceMs: number,
  anchors: Readonly<Record<string, string>>,
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
    for (const t of list) {
      const m = Math.floor(t.tradeTimeMs / 60_000) * 60_000;
      if (prev !== undefined) missing.set(m, (missing.get(m) ?? 0) + (t.aggId - prev - 1));
      prev = t.aggId;
      minutes.set(m, [...(minutes.get(m) ?? []), t]);
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
        final: watermark >= m + 60_000 + graceMs,
      };
      out.set(rowKey(row), row);
    }
  }
  return out;
}

// ---------------------------------------------------------------- generators

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

const scenario = fc.record({
  graceMs: fc.constantFrom(0, 5_000, 30_000),
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

type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

function buildTrades(s: Scenario, random: () => number): EngineTrade[] {
  const out: EngineTrade[] = [];
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
        buyerMaker: step.buyerMaker,
        recovered: step.recovered,
      });
      tradeId += step.extra + 1;
    }
  });
  return out;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const minuteOf = (t: number) => t - (t % 60_000);

function anchorsOf(s: Scenario): Record<string, string> {
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

function checkContinuity(table: Map<string, BarRow>, anchors: Readonly<Record<string, string>>): void {
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

function run(s: Scenario): void {
  const random = mulberry32(s.seed);
  const trades = buildTrades(s, random);
  const anchors = anchorsOf(s);
  const options = { graceMs: s.graceMs, horizonMs: s.horizonMs, anchors };
  const expiresAt = (t: number) => minuteOf(t) + 60_000 + s.graceMs + s.horizonMs;

  // Arrival: shuffled, with duplicates (exact copies) and a few invalid trades sprinkled in.
  const arrival: Array<EngineTrade | { invalid: EngineTrade }> = [];
  for (const t of shuffle([...trades], random)) {
    arrival.push(t);
    if (random() < s.duplicateRate) arrival.splice(Math.floor(random() * arrival.length), 0, { ...t });
    if (random() < 0.05) arrival.push({ invalid: { ...t, qty: random() < 0.5 ? '1e3' : '-1' } });
  }
  // Random batch split.
  const cuts = new Set<number>();
  for (let i = 1; i < s.batches; i++) cuts.add(Math.floor(random() * arrival.length));
  const batches: Array<typeof arrival> = [];
  let current: typeof arrival = [];
  arrival.forEach((t, i) => {
    if (cuts.has(i) && current.length > 0) {
      batches.push(current);
      current = [];
    }
    current.push(t);
  });
  batches.push(current);

  // Watermarks: random, may go backwards, never so far that a pending trade is past the horizon
  // (then nothing is dropped and the result must be the reference). With non-monotone times a
  // hole's owner must not expire before its ids arrive, so cap by the earliest minute overall.
  const earliestExpiry = Math.min(...trades.map((t) => expiresAt(t.tradeTimeMs)));
  const pendingCap: number[] = [];
  let cap = Number.POSITIVE_INFINITY;
  for (let b = batches.length - 1; b >= 0; b--) {
    for (const t of batches[b]!) if (!('invalid' in t)) cap = Math.min(cap, expiresAt(t.tradeTimeMs));
    pendingCap[b] = s.monotone ? cap : earliestExpiry;
  }
  const lastTime = Math.max(...trades.map((t) => t.tradeTimeMs));
  const end = minuteOf(lastTime) + 60_000 + s.graceMs + s.horizonMs + 60_000;
  batches.push([]); // final flush past every minute and the horizon
  pendingCap.push(end + 1);

  let state: EngineState = createState(options);
  const table = new Map<string, BarRow>();
  const everFinal = new Set<string>();
  const applied: EngineTrade[] = [];
  const seen = new Set<string>();
  let maxWatermark = Number.NEGATIVE_INFINITY;
  let totals = { applied: 0, duplicates: 0, invalid: 0, late: 0, lateRevisions: 0 };
  let sent = 0;
  let invalidSent = 0;

  batches.forEach((batch, b) => {
    const isLast = b === batches.length - 1;
    const hi = pendingCap[b]! - 1;
    const watermark = isLast ? end : Math.min(hi, START - 120_000 + Math.floor(random() * (lastTime - START + 300_000)));
    const input = batch.map((t) => ('invalid' in t ? t.invalid : t));
    const result = applyBatch(state, input, watermark);
    maxWatermark = Math.max(maxWatermark, watermark);

    for (const t of batch) {
      sent++;
      if ('invalid' in t) {
        invalidSent++;
        continue;
      }
      const k = `${t.market}:${t.symbol}:${t.aggId}`;
      if (!seen.has(k)) {
        seen.add(k);
        applied.push(t);
      }
    }
    totals = {
      applied: totals.applied + result.stats.applied,
      duplicates: totals.duplicates + result.stats.duplicates,
      invalid: totals.invalid + result.stats.invalid,
      late: totals.late + result.stats.lateBeyondHorizon,
      lateRevisions: totals.lateRevisions + result.stats.lateRevisions,
    };
    for (const r of result.rejected) {
      assert.ok('invalid' in batch[r.index]!, 'only the injected bad trades are rejected');
      assert.equal(r.reason, 'invalid-qty');
    }

    const keysThisBatch = new Set<string>();
    for (const row of result.upserts) {
      const k = rowKey(row);
      assert.ok(!keysThisBatch.has(k), 'a bar is emitted at most once per batch');
      keysThisBatch.add(k);
      if (everFinal.has(k)) assert.equal(row.final, true, 'a final bar never becomes forming again');
      if (row.final) everFinal.add(k);
      table.set(k, row);
    }

    // After every batch, the latest rows are exactly the reference of what was applied.
    const expected = reference(applied, maxWatermark, s.graceMs, anchors);
    assert.deepStrictEqual(new Map([...table].sort()), new Map([...expected].sort()));
    checkContinuity(table, anchors);

    if (random() < s.snapshotRate) {
      const snapshot = serializeState(state);
      state = deserializeState(snapshot);
      assert.equal(serializeState(state), snapshot, 'serialize(deserialize(s)) === s');
    }
  });

  assert.equal(totals.applied, applied.length);
  assert.equal(totals.duplicates, sent - invalidSent - applied.length);
  assert.equal(totals.invalid, invalidSent);
  assert.equal(totals.late, 0);
  for (const row of table.values()) assert.equal(row.final, true);
  // Everything is past the horizon now: only the chain tails remain.
  for (const sym of state.symbols.values()) assert.equal(sym.bars.length, 0);
}

describe('engine properties', () => {
  it('latest upserts equal the reference after every batch, for any order/split/watermarks/snapshots', () => {
    fc.assert(fc.property(scenario, run), { numRuns: 300 });
  });

  it('restore + replay after a snapshot reproduces the same upserts exactly', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 100 }), (s, at) => {
        const random = mulberry32(s.seed);
        const trades = shuffle(buildTrades(s, random), random);
        const chunks: EngineTrade[][] = [];
        for (let i = 0; i < trades.length; i += 7) chunks.push(trades.slice(i, i + 7));
        const watermarks = chunks.map((c) => Math.max(...c.map((t) => t.tradeTimeMs)) - 20_000);
        const cut = at % (chunks.length + 1);
        const a = createState({ graceMs: s.graceMs, horizonMs: s.horizonMs });
        let b = createState({ graceMs: s.graceMs, horizonMs: s.horizonMs });
        chunks.forEach((chunk, i) => {
          if (i === cut) b = deserializeState(serializeState(b));
          const ra = applyBatch(a, chunk, watermarks[i]!);
          const rb = applyBatch(b, chunk, watermarks[i]!);
          assert.deepStrictEqual(rb, ra);
        });
        assert.equal(serializeState(b), serializeState(a));
      }),
      { numRuns: 150 },
    );
  });
});
