import { SYMBOL_CONFIG_V1 } from './avro-schemas.js';
import { fail, ok, SchemaError, type DecodeResult } from './schema-error.js';
import { isCount, isMarket, isSymbol, type Market } from '@cvd/core';
import { isSignedDecimal } from './values.js';
import { decodeAvro, frame } from './wire.js';

/** Sources known today; the field is an open string so new sources need no schema change. */
export const KNOWN_SYMBOL_SOURCES = ['file', 'api', 'selector'] as const;

/**
 * Desired state of one symbol, value of the compacted `cvd.symbols.v1` topic under key
 * `market:SYMBOL`. A Kafka record with a null value (tombstone) means the symbol was
 * removed; there is nothing to decode then.
 */
export interface SymbolConfig {
  readonly market: Market;
  readonly symbol: string;
  readonly enabled: boolean;
  /** Who set it: `file` | `api` | `selector` | … */
  readonly source: string;
  readonly updatedAtMs: number;
  /** Signed decimal CVD to start from, or null to start at 0. */
  readonly anchorCvd: string | null;
  readonly notes: Readonly<Record<string, string>> | null;
}

/** What {@link encodeSymbolConfig} accepts: the optional fields may be left out. */
export type SymbolConfigInput = Omit<SymbolConfig, 'anchorCvd' | 'notes'> & {
  readonly anchorCvd?: string | null;
  readonly notes?: Readonly<Record<string, string>> | null;
};

export function checkSymbolConfig(c: SymbolConfig): string | undefined {
  if (typeof c !== 'object' || c === null) return 'not an object';
  if (!isMarket(c.market)) return `unknown market ${JSON.stringify(c.market)}`;
  if (!isSymbol(c.symbol)) return `invalid symbol ${JSON.stringify(c.symbol)}`;
  if (typeof c.enabled !== 'boolean') return 'enabled must be a boolean';
  if (typeof c.source !== 'string' || c.source.length === 0) return 'source must be a non-empty string';
  if (!isCount(c.updatedAtMs)) return `updatedAtMs must be an integer in [0, 2^53-2], got ${String(c.updatedAtMs)}`;
  if (c.anchorCvd !== null && !isSignedDecimal(c.anchorCvd)) return `anchorCvd ${JSON.stringify(c.anchorCvd)} is not a decimal string`;
  if (c.notes !== null) {
    if (typeof c.notes !== 'object') return 'notes must be a string map';
    for (const v of Object.values(c.notes)) if (typeof v !== 'string') return 'notes values must be strings';
  }
  return undefined;
}

function normalise(c: SymbolConfigInput): SymbolConfig {
  return {
    market: c.market,
    symbol: c.symbol,
    enabled: c.enabled,
    source: c.source,
    updatedAtMs: c.updatedAtMs,
    anchorCvd: c.anchorCvd ?? null,
    notes: c.notes == null ? null : { ...c.notes },
  };
}

/**
 * Encodes a `SymbolConfig` v1 record.
 * @throws SchemaError `invalid-value` when the config breaks the contract.
 */
export function encodeSymbolConfig(config: SymbolConfigInput): Buffer {
  const c = normalise(config);
  const problem = checkSymbolConfig(c);
  if (problem !== undefined) throw new SchemaError('invalid-value', `cannot encode SymbolConfig: ${problem}`);
  // avsc wants unions of named/unnamed types unwrapped; `map` and `string` are fine as is.
  return frame(SYMBOL_CONFIG_V1, c);
}

/** Decodes a `SymbolConfig` record (any known version). Never throws. */
export function decodeSymbolConfig(bytes: Uint8Array): DecodeResult<SymbolConfig> {
  const r = decodeAvro(bytes, SYMBOL_CONFIG_V1.type, ['symbol-config']);
  if (!r.ok) return r;
  const c = normalise(r.value.value as SymbolConfig);
  const problem = checkSymbolConfig(c);
  return problem === undefined ? ok(c) : fail('invalid-value', `SymbolConfig: ${problem}`);
}
