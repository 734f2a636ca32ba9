import { BAR_V1 } from './avro-schemas.js';
import { fail, ok, SchemaError, type DecodeResult } from './schema-error.js';
import { isCount, isMarket, isSymbol, type Market } from '@cvd/core';
import { isSignedDecimal } from './values.js';
import { decodeAvro, frame } from './wire.js';

/**
 * One 1-minute bar as published on `cvd.bars.v1` (key `market:SYMBOL`): the same fields as
 * the engine's `BarRow` (so a `BarRow` is a `BarRecord` without the two latency stamps), plus
 * two wall-clock stamps used only for latency metrics. Every update carries the whole bar,
 * so the newest record of a key and minute is that bar's state.
 */
export interface BarRecord {
  readonly market: Market;
  readonly symbol: string;
  /** Minute open, epoch ms (UTC). */
  readonly ts: number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: string;
  readonly buyVolume: string;
  readonly sellVolume: string;
  readonly quoteVolume: string;
  readonly buyQuoteVolume: string;
  readonly sellQuoteVolume: string;
  readonly delta: string;
  readonly quoteDelta: string;
  readonly cvdOpen: string;
  readonly cvdHigh: string;
  readonly cvdLow: string;
  readonly cvdClose: string;
  readonly trades: number;
  readonly aggTrades: number;
  readonly firstAggId: number;
  readonly lastAggId: number;
  readonly missingAggIds: number;
  readonly recovered: number;
  readonly final: boolean;
  /** Ingest wall clock of the newest trade in this update (latency metrics only). */
  readonly receivedAtMs: number;
  /** Aggregator wall clock when this update was published (latency metrics only). */
  readonly emittedAtMs: number;
}

const DECIMAL_FIELDS = [
  'open',
  'high',
  'low',
  'close',
  'volume',
  'buyVolume',
  'sellVolume',
  'quoteVolume',
  'buyQuoteVolume',
  'sellQuoteVolume',
  'delta',
  'quoteDelta',
  'cvdOpen',
  'cvdHigh',
  'cvdLow',
  'cvdClose',
] as const satisfies readonly (keyof BarRecord)[];

const COUNT_FIELDS = [
  'ts',
  'trades',
  'aggTrades',
  'firstAggId',
  'lastAggId',
  'missingAggIds',
  'recovered',
  'receivedAtMs',
  'emittedAtMs',
] as const satisfies readonly (keyof BarRecord)[];

/** Why `b` is not a valid bar record, or undefined. */
export function checkBar(b: BarRecord): string | undefined {
  if (typeof b !== 'object' || b === null) return 'not an object';
  if (!isMarket(b.market)) return `unknown market ${JSON.stringify(b.market)}`;
  if (!isSymbol(b.symbol)) return `invalid symbol ${JSON.stringify(b.symbol)}`;
  for (const f of DECIMAL_FIELDS) if (!isSignedDecimal(b[f])) return `${f} ${JSON.stringify(b[f])} is not a decimal string`;
  for (const f of COUNT_FIELDS) if (!isCount(b[f])) return `${f} must be an integer in [0, 2^53-2], got ${String(b[f])}`;
  if (b.ts % 60_000 !== 0) return `ts ${b.ts} is not a minute boundary`;
  if (typeof b.final !== 'boolean') return 'final must be a boolean';
  return undefined;
}

/**
 * Encodes a `Bar` v1 record.
 * @throws SchemaError `invalid-value` when the bar breaks the contract (a producer bug).
 */
export function encodeBar(bar: BarRecord): Buffer {
  const problem = checkBar(bar);
  if (problem !== undefined) throw new SchemaError('invalid-value', `cannot encode Bar: ${problem}`);
  return frame(BAR_V1, bar);
}

/** Decodes a `Bar` record (any known version) into a plain object. Never throws. */
export function decodeBar(bytes: Uint8Array): DecodeResult<BarRecord> {
  const r = decodeAvro(bytes, BAR_V1.type, ['bar']);
  if (!r.ok) return r;
  const b: BarRecord = { ...(r.value.value as BarRecord) };
  const problem = checkBar(b);
  return problem === undefined ? ok(b) : fail('invalid-value', `Bar: ${problem}`);
}
