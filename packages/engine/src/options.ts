/** Engine options, their defaults and validation. */
import { parseDecimal } from './decimal.js';
import { EngineError } from './errors.js';

export const MINUTE_MS = 60_000;

export interface EngineOptions {
  /**
   * How long after a minute's end its bar stays forming: minute `m` becomes final once the
   * watermark reaches `m + 60000 + graceMs`.
   * @defaultValue 5000
   */
  readonly graceMs: number;
  /**
   * How long a final bar stays revisable: a trade for minute `m` is still applied while the
   * watermark is below `m + 60000 + graceMs + horizonMs`; past that it is rejected and counted
   * as `lateBeyondHorizon` (an explicit rebuild from `cvd.trades.v1` handles it). Also bounds
   * memory: per-trade lists, bars and agg-id holes are dropped once past the horizon.
   * @defaultValue 900000 (15 minutes)
   */
  readonly horizonMs: number;
  /**
   * Cap on open agg-id holes kept per symbol. When exceeded, the lowest holes are settled
   * (their ids stay counted as missing for good; a trade later arriving in one is rejected as
   * `settled-id`). Only a pathological stream reaches it; determinism holds while it is not hit.
   * @defaultValue 10000
   */
  readonly maxHolesPerSymbol: number;
  /**
   * How long (in watermark time, past the minute's normal finality) a bar stays forming while
   * an open agg-id hole could hold trades of its minute (between the minutes of the hole's
   * neighbours): ingest is still fetching them. Past it the bar turns final anyway, its
   * `missing_agg_ids` counting what never came. Bars after a held bar wait with it (final bars
   * stay a prefix: their `cvd_open` depends on it). Capped at `horizonMs`; 0 = no hold.
   * @defaultValue 0 (the aggregator sets `AGGREGATOR_HOLE_HOLD`, 60 s by default)
   */
  readonly holeHoldMs: number;
  /**
   * CVD value at which a symbol starts, keyed `market:SYMBOL` (e.g. `"usdm:BTCUSDT": "-12.5"`),
   * as an exact (signed) decimal string. Symbols without an entry start at 0.
   * @defaultValue {}
   */
  readonly anchors: Readonly<Record<string, string>>;
}

export const DEFAULT_OPTIONS: EngineOptions = Object.freeze({
  graceMs: 5_000,
  horizonMs: 15 * MINUTE_MS,
  maxHolesPerSymbol: 10_000,
  holeHoldMs: 0,
  anchors: Object.freeze({}),
});

function nonNegativeInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new EngineError('invalid-options', `${name} must be a non-negative safe integer, got ${String(value)}`);
  }
  return value;
}

/** Merges `options` over the defaults and validates them; throws `EngineError('invalid-options')`. */
export function resolveOptions(options: Partial<EngineOptions> = {}): EngineOptions {
  const graceMs = nonNegativeInteger('graceMs', options.graceMs ?? DEFAULT_OPTIONS.graceMs);
  const horizonMs = nonNegativeInteger('horizonMs', options.horizonMs ?? DEFAULT_OPTIONS.horizonMs);
  const maxHolesPerSymbol = nonNegativeInteger(
    'maxHolesPerSymbol',
    options.maxHolesPerSymbol ?? DEFAULT_OPTIONS.maxHolesPerSymbol,
  );
  if (maxHolesPerSymbol < 1) throw new EngineError('invalid-options', 'maxHolesPerSymbol must be >= 1');
  const holeHoldMs = nonNegativeInteger('holeHoldMs', options.holeHoldMs ?? DEFAULT_OPTIONS.holeHoldMs);
  const anchorsIn = options.anchors ?? {};
  if (typeof anchorsIn !== 'object' || anchorsIn === null || Array.isArray(anchorsIn)) {
    throw new EngineError('invalid-options', 'anchors must be an object of market:SYMBOL -> decimal string');
  }
  const anchors: Record<string, string> = {};
  for (const key of Object.keys(anchorsIn).sort()) {
    const parsed = parseDecimal(anchorsIn[key], { signed: true });
    if (!parsed.ok) throw new EngineError('invalid-options', `anchor ${key}: ${parsed.error}`);
    anchors[key] = parsed.value.toString();
  }
  return Object.freeze({ graceMs, horizonMs, maxHolesPerSymbol, holeHoldMs, anchors: Object.freeze(anchors) });
}

/** UTC minute open (ms) of a trade time. */
export function minuteOf(tradeTimeMs: number): number {
  return tradeTimeMs - (((tradeTimeMs % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
}

/** Watermark at which minute `ts` becomes final. */
export function finalAt(options: EngineOptions, ts: number): number {
  return ts + MINUTE_MS + options.graceMs;
}

/** Watermark at which minute `ts` becomes final even while an open hole could hold its trades. */
export function finalAfterHold(options: EngineOptions, ts: number): number {
  return finalAt(options, ts) + Math.min(options.holeHoldMs, options.horizonMs);
}

/** Watermark at which minute `ts` leaves the horizon (no longer revisable, state dropped). */
export function expiresAt(options: EngineOptions, ts: number): number {
  return ts + MINUTE_MS + options.graceMs + options.horizonMs;
}
