import { CvdError } from '@cvd/core';

/** Why a record or key could not be decoded (or a value could not be encoded). */
export const SCHEMA_ERROR_CODES = [
  /** First byte is not {@link WIRE_MAGIC}: not one of our records. */
  'bad-magic',
  /** Header names a schema id this reader does not know (reader older than writer). */
  'unknown-schema',
  /** A known schema of another kind (e.g. a SymbolConfig given to decodeTrade). */
  'wrong-schema',
  /** The buffer ends before the record does. */
  'truncated',
  /** Bytes left after a complete record. */
  'trailing-bytes',
  /** The Avro body does not decode (bad union/enum index, bad block count, …). */
  'invalid-body',
  /** Decodes, but a value breaks the contract (non-decimal qty, unsafe long, empty symbol, …). */
  'invalid-value',
  /** A Kafka key that is not `market:SYMBOL`. */
  'invalid-key',
] as const;
export type SchemaErrorCode = (typeof SCHEMA_ERROR_CODES)[number];

/**
 * Broken input. Never retriable: the same bytes fail the same way, so the consumer
 * dead-letters them (`unknown-schema` means this reader must be upgraded first).
 */
export class SchemaError extends CvdError<SchemaErrorCode> {
  constructor(code: SchemaErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(code, message, { ...options, retriable: false });
  }
}

/** Outcome of decoding untrusted bytes: decoders return errors instead of throwing them. */
export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: SchemaError };

export function ok<T>(value: T): DecodeResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: SchemaErrorCode, message: string, cause?: unknown): DecodeResult<T> {
  return { ok: false, error: new SchemaError(code, message, cause === undefined ? {} : { cause }) };
}
