/**
 * A synthetic market: N symbols across spot, USD-M and COIN-M. Arrivals are a two-state
 * (calm/burst) Poisson process, prices a random walk on the tick grid, sizes log-normal on
 * the step grid (up to 8 decimals), both sides. Everything derives from `seed` and
 * `startTime` — never the clock — so the same options replay the same trades.
 */
import { SimulatorError } from '../errors.js';
import { decimalPlaces, gridValue, parseScaled } from '../decimal.js';
import { Prng } from '../prng.js';
import type { Market, SimTrade, SymbolInfo } from '../types.js';
import { defaultSymbolInfo, mergeByTime, type TradeSource } from './source.js';

export interface SyntheticSymbolSpec {
  market: Market;
  symbol: string;
  /** On the tick grid. */
  startPrice: string;
  tickSize: string;
  /** Up to 8 decimals; COIN-M quantities are whole contracts (`"1"`). */
  stepSize: string;
  /** Mean calm-state arrival rate. @defaultValue 5 */
  tradesPerSecond?: number;
  /** Median trade size in quote units (COIN-M: contracts). @defaultValue 200 (COIN-M 5) */
  medianNotional?: number;
  /** @defaultValue 1000 */
  firstAggId?: number;
  /** @defaultValue 5000 */
  firstTradeId?: number;
}

export interface SyntheticSourceSpec {
  kind: 'synthetic';
  seed: number;
  /** Trade time of the first trade, ms since epoch. */
  startTime: number;
  /** Explicit symbols; otherwise `counts` generates them. */
  symbols?: SyntheticSymbolSpec[];
  /** Generated symbols per market. @defaultValue { spot: 2, usdm: 2, coinm: 0 } */
  counts?: Partial<Record<Market, number>>;
  /** Include the non-ASCII spot symbol `币安人生USDT` among generated ones. @defaultValue false */
  nonAscii?: boolean;
  /** Stop each symbol after this many trades. Unbounded if neither bound is set. */
  tradesPerSymbol?: number;
  /** Stop at `startTime + durationMs` (trade time). */
  durationMs?: number;
  /** Burst process. @defaultValue { enterProbability: 0.02, meanLength: 40, factor: 20 } */
  burst?: { enterProbability?: number; meanLength?: number; factor?: number };
}

const BASES: ReadonlyArray<readonly [string, number]> = [
  ['BTC', 60000],
  ['ETH', 3000],
  ['BNB', 550],
  ['SOL', 150],
  ['XRP', 0.6],
  ['DOGE', 0.15],
  ['ADA', 0.45],
  ['LINK', 15],
  ['AVAX', 30],
  ['DOT', 6],
  ['LTC', 80],
  ['TRX', 0.12],
];

/** Grid sizes for a price: ~6 significant digits of price; steps worth ~$0.01–$1. */
function grids(market: Market, price: number): { tick: number; step: number } {
  const mag = Math.floor(Math.log10(price));
  const tick = Math.min(8, Math.max(0, 5 - mag));
  const step = market === 'coinm' ? 0 : Math.min(8, Math.max(0, mag + 2));
  return { tick, step };
}

/** The symbols `counts` generates (deterministic, no randomness). */
export function generatedSymbols(spec: Pick<SyntheticSourceSpec, 'counts' | 'nonAscii'>): SyntheticSymbolSpec[] {
  const counts = spec.counts ?? { spot: 2, usdm: 2 };
  const out: SyntheticSymbolSpec[] = [];
  for (const market of ['spot', 'usdm', 'coinm'] as const) {
    const n = counts[market] ?? 0;
    for (let i = 0; i < n; i++) {
      const known = BASES[i];
      const base = known?.[0] ?? `SYM${i}`;
      const price = known?.[1] ?? 1 + i;
      const symbol =
        market === 'spot' && spec.nonAscii === true && i === n - 1
          ? '币安人生USDT'
          : market === 'coinm'
            ? `${base}USD_PERP`
            : `${base}USDT`;
      const g = grids(market, price);
      const tickSize = g.tick === 0 ? '1' : `0.${'0'.repeat(g.tick - 1)}1`;
      const stepSize = g.step === 0 ? '1' : `0.${'0'.repeat(g.step - 1)}1`;
      const ticks = Math.round(price * 10 ** g.tick);
      out.push({
        market,
        symbol,
        startPrice: gridValue(ticks, tickSize, g.tick),
        tickSize,
        stepSize,
      });
    }
  }
  return out;
}

function validate(spec: SyntheticSourceSpec, symbols: readonly SyntheticSymbolSpec[]): void {
  const bad = (why: string): never => {
    throw new SimulatorError('bad-options', `synthetic source: ${why}`);
  };
  if (!Number.isFinite(spec.seed)) bad('seed must be a number');
  if (!Number.isSafeInteger(spec.startTime) || spec.startTime < 0) bad('startTime must be ms since epoch');
  const seen = new Set<string>();
  for (const s of symbols) {
    const key = `${s.market}:${s.symbol}`;
    if (seen.has(key)) bad(`duplicate symbol ${key}`);
    seen.add(key);
    if (decimalPlaces(s.stepSize) > 8) bad(`${key}: stepSize has more than 8 decimals`);
    const p = parseScaled(s.startPrice);
    const t = parseScaled(s.tickSize);
    if (t.units <= 0n) bad(`${key}: tickSize must be positive`);
    if (parseScaled(s.stepSize).units <= 0n) bad(`${key}: stepSize must be positive`);
    const scale = Math.max(p.scale, t.scale);
    const pu = p.units * 10n ** BigInt(scale - p.scale);
    const tu = t.units * 10n ** BigInt(scale - t.scale);
    if (pu % tu !== 0n || pu <= 0n) bad(`${key}: startPrice is not a positive multiple of tickSize`);
  }
}

function* symbolTrades(
  s: SyntheticSymbolSpec,
  index: number,
  spec: SyntheticSourceSpec,
): Generator<SimTrade> {
  const rng = new Prng(spec.seed, index);
  const rate = s.tradesPerSecond ?? 5;
  const burst = { enterProbability: 0.02, meanLength: 40, factor: 20, ...spec.burst };
  const tickDecimals = decimalPlaces(s.tickSize);
  const stepDecimals = decimalPlaces(s.stepSize);
  // Spot sends 8 decimals always; futures the grid's precision.
  const priceDecimals = s.market === 'spot' ? 8 : tickDecimals;
  const qtyDecimals = s.market === 'spot' ? 8 : stepDecimals;
  const p = parseScaled(s.startPrice);
  const t = parseScaled(s.tickSize);
  const scale = Math.max(p.scale, t.scale);
  let ticks = Number((p.units * 10n ** BigInt(scale - p.scale)) / (t.units * 10n ** BigInt(scale - t.scale)));
  const price0 = Number(s.startPrice);
  const step = Number(s.stepSize);
  const median = s.market === 'coinm' ? (s.medianNotional ?? 5) : (s.medianNotional ?? 200) / price0;
  const medianSteps = Math.max(1, median / step);
  const mu = Math.log(medianSteps);
  let a = s.firstAggId ?? 1000;
  let tradeId = s.firstTradeId ?? 5000;
  let tus = spec.startTime * 1000;
  const endUs = spec.durationMs === undefined ? Infinity : (spec.startTime + spec.durationMs) * 1000;
  const maxTrades = spec.tradesPerSymbol ?? Infinity;
  let inBurst = false;
  let burstBuyer = true;
  const futures = s.market !== 'spot';
  for (let n = 0; n < maxTrades; n++) {
    if (n > 0) {
      const r = inBurst ? rate * burst.factor : rate;
      tus += Math.floor(rng.exponential(1e6 / r));
    }
    if (futures) tus = Math.floor(tus / 1000) * 1000; // futures trade times are ms
    if (tus >= endUs) return;
    if (inBurst) {
      if (rng.next() < 1 / burst.meanLength) inBurst = false;
    } else if (rng.next() < burst.enterProbability) {
      inBurst = true;
      burstBuyer = rng.next() < 0.5;
    }
    const buyerTaker = inBurst ? rng.next() < (burstBuyer ? 0.85 : 0.15) : rng.next() < 0.5;
    if (rng.next() < (inBurst ? 0.6 : 0.3)) {
      const mag = 1 + rng.int(inBurst ? 4 : 2);
      ticks += buyerTaker ? mag : -mag;
      if (ticks < 1) ticks = 1;
    }
    const qSteps = Math.max(1, Math.round(Math.exp(mu + 1.1 * rng.normal())));
    const fills = 1 + Math.min(19, Math.floor(rng.exponential(1.2)));
    if (futures && rng.next() < 0.02) tradeId += 1 + rng.int(3); // excluded insurance/ADL fills
    const f = tradeId;
    const l = f + fills - 1;
    tradeId = l + 1;
    const T = Math.floor(tus / 1000);
    const q = gridValue(qSteps, s.stepSize, qtyDecimals);
    const rpi = s.market === 'usdm' && qSteps > 1 && rng.next() < 0.05 ? 1 + rng.int(qSteps - 1) : 0;
    const E = futures ? T + 1 + rng.int(100) : T;
    yield {
      market: s.market,
      symbol: s.symbol,
      a,
      p: gridValue(ticks, s.tickSize, priceDecimals),
      q,
      ...(s.market === 'usdm' ? { nq: gridValue(qSteps - rpi, s.stepSize, qtyDecimals) } : {}),
      f,
      l,
      T,
      Tus: tus,
      E,
      m: !buyerTaker,
      M: true,
    };
    a++;
  }
}

export function syntheticSource(spec: SyntheticSourceSpec): TradeSource {
  const symbols = spec.symbols ?? generatedSymbols(spec);
  validate(spec, symbols);
  const infos: SymbolInfo[] = symbols.map((s) => defaultSymbolInfo(s.market, s.symbol, s.tickSize, s.stepSize));
  return {
    name: `synthetic(seed=${spec.seed})`,
    symbols: infos,
    trades: () => mergeByTime(symbols.map((s, i) => symbolTrades(s, i, spec))),
  };
}
