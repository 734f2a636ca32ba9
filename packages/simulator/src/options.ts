/**
 * The simulator's options: plain data (JSON-able) so a CLI (`cvd sim`) can build them from
 * arguments, checked once at start-up so a bad value fails before any port is bound.
 */
import { SimulatorError } from './errors.js';
import type { PaceOptions } from './feed.js';
import type { Fault } from './faults.js';
import type { MarketProtocolOptions } from './market-profiles.js';
import type { SourceSpec } from './sources/load.js';
import { isMarket, type Market, type SymbolInfo } from './types.js';

/** Minimal pino-compatible logger. */
export interface SimLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export const NOOP_LOGGER: SimLogger = { info: () => undefined, warn: () => undefined, debug: () => undefined };

export type StartPolicy = 'immediate' | 'first-subscriber' | 'manual';

/** Plain data (JSON-able) so a CLI (`cvd sim`) can build it from arguments. */
export interface SimulatorOptions {
  /** Listen address; keep it loopback. @defaultValue "127.0.0.1" */
  host?: string;
  /** Port of the shared server (0 = a free port). @defaultValue 0 */
  port?: number;
  /** Also serve these markets on their own port with no path prefix (0 = a free port). */
  marketPorts?: Partial<Record<Market, number>>;
  /** Trade sources, merged by trade time. @defaultValue [] */
  sources?: SourceSpec[];
  /** Extra symbols or overrides (status, grids) for `exchangeInfo`; matched by market+symbol. */
  symbols?: Array<Pick<SymbolInfo, 'market' | 'symbol'> & Partial<SymbolInfo>>;
  /** @defaultValue { mode: 'realtime' } */
  pace?: PaceOptions;
  /** When trades start flowing: at once, at the first aggTrade subscription, or on `start()`.
   * @defaultValue "first-subscriber" */
  start?: StartPolicy;
  /** Per-market protocol limits over Binance's defaults. */
  markets?: Partial<Record<Market, Partial<MarketProtocolOptions>>>;
  /** REST weight window. @defaultValue 60 000 ms */
  weightWindowMs?: number;
  /** USD-M and COIN-M share one weight budget (Binance since 2026-06-30). @defaultValue true */
  sharedFuturesWeight?: boolean;
  /** Faults active from the start. */
  faults?: Fault[];
  /** Seed of probabilistic faults. @defaultValue 1 */
  faultSeed?: number;
  logger?: SimLogger;
}

/** Throws `SimulatorError('bad-options')` naming the first bad value. */
export function validateOptions(o: SimulatorOptions): void {
  const bad = (why: string): never => {
    throw new SimulatorError('bad-options', why);
  };
  const portOk = (p: unknown): boolean => typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 65535;
  if (o.port !== undefined && !portOk(o.port)) bad(`port must be an integer 0..65535, got ${String(o.port)}`);
  for (const [m, p] of Object.entries(o.marketPorts ?? {})) {
    if (!isMarket(m)) bad(`marketPorts: unknown market ${m}`);
    if (!portOk(p)) bad(`marketPorts.${m} must be an integer 0..65535`);
  }
  if (o.pace?.mode === 'speed' && !(o.pace.factor > 0 && Number.isFinite(o.pace.factor))) bad('pace.factor must be > 0');
  if (o.start !== undefined && !['immediate', 'first-subscriber', 'manual'].includes(o.start)) bad(`bad start policy ${o.start}`);
  for (const [m, p] of Object.entries(o.markets ?? {})) {
    if (!isMarket(m)) bad(`markets: unknown market ${m}`);
    for (const [k, v] of Object.entries(p ?? {})) {
      if (typeof v === 'number' && !(v > 0)) bad(`markets.${m}.${k} must be > 0`);
    }
  }
  if (o.weightWindowMs !== undefined && !(o.weightWindowMs > 0)) bad('weightWindowMs must be > 0');
}
