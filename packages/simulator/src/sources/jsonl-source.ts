/**
 * JSON lines of aggTrade websocket frames, raw (`{"e":"aggTrade",...}`) or combined
 * (`{"stream":...,"data":{...}}`), as recorded from Binance. Other events are skipped.
 * Recorded `E` is kept; `T` of 16 digits is taken as µs (spot `timeUnit=MICROSECOND`).
 */
import { SimulatorError } from '../errors.js';
import { isDecimalString } from '../decimal.js';
import type { Market, SimTrade } from '../types.js';

export interface JsonlParseOptions {
  market: Market;
  /** Skip invalid lines instead of failing. @defaultValue false */
  skipInvalid?: boolean;
  name?: string;
}

export interface JsonlParseResult {
  trades: SimTrade[];
  /** Lines that were not aggTrade events (or invalid, with `skipInvalid`). */
  skipped: number;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function parseAggTradeJsonl(text: string, opts: JsonlParseOptions): JsonlParseResult {
  const name = opts.name ?? `${opts.market} jsonl`;
  const trades: SimTrade[] = [];
  let skipped = 0;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] ?? '').trim();
    if (line === '') continue;
    const fail = (why: string): void => {
      if (opts.skipInvalid === true) {
        skipped++;
        return;
      }
      throw new SimulatorError('bad-source', `${name}: line ${n + 1}: ${why}`);
    };
    let frame: unknown;
    try {
      frame = JSON.parse(line);
    } catch (err) {
      if (opts.skipInvalid === true) skipped++;
      else throw new SimulatorError('bad-source', `${name}: line ${n + 1}: invalid JSON`, { cause: err });
      continue;
    }
    if (typeof frame !== 'object' || frame === null) {
      fail('not an object');
      continue;
    }
    const outer = frame as Record<string, unknown>;
    const data = (typeof outer['stream'] === 'string' && typeof outer['data'] === 'object' ? outer['data'] : outer) as Record<
      string,
      unknown
    > | null;
    if (data === null || data['e'] !== 'aggTrade') {
      skipped++;
      continue;
    }
    const { s, a, p, q, f, l, T, E, m, M, nq } = data;
    if (typeof s !== 'string' || s === '' || !isInt(a) || !isDecimalString(p) || !isDecimalString(q) || !isInt(f) || !isInt(l) || !isInt(T) || typeof m !== 'boolean') {
      fail('not a valid aggTrade event');
      continue;
    }
    const micro = String(T).length >= 16;
    const Tus = micro ? T : T * 1000;
    const Tms = Math.floor(Tus / 1000);
    const e = isInt(E) ? (String(E).length >= 16 ? Math.floor(E / 1000) : E) : Tms;
    trades.push({
      market: opts.market,
      symbol: s,
      a,
      p,
      q,
      ...(opts.market === 'usdm' && isDecimalString(nq) ? { nq } : {}),
      f,
      l,
      T: Tms,
      Tus,
      E: e,
      m,
      M: typeof M === 'boolean' ? M : true,
    });
  }
  return { trades, skipped };
}
