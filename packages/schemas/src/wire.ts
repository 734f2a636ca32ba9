import type avro from 'avsc';
import { WRITER_SCHEMAS, type RecordKind, type SchemaDescriptor } from './avro-schemas.js';
import { checkBounds } from './harden.js';
import { fail, ok, SchemaError, type DecodeResult } from './schema-error.js';

/**
 * Wire format: `[0xC5][schema id][Avro binary body]`.
 *
 * Two bytes instead of Avro single-object encoding's 10 (`C3 01` + 8-byte CRC-64
 * fingerprint): the project is the only writer and reader, ids are assigned in code and
 * pinned against fingerprints by tests, and a one-byte lookup is cheaper on the hot path.
 * The magic byte (not `C3`) makes our records distinguishable from single-object ones.
 */
export const WIRE_MAGIC = 0xc5;
export const HEADER_BYTES = 2;

let scratch = Buffer.allocUnsafe(16 * 1024);

/** Encodes an already-validated value under a writer schema: one copy, no concat. */
export function frame(writer: SchemaDescriptor, value: unknown): Buffer {
  for (;;) {
    scratch[0] = WIRE_MAGIC;
    scratch[1] = writer.id;
    let end: number;
    try {
      end = writer.type.encode(value, scratch, HEADER_BYTES);
    } catch (err) {
      // Callers validate first; this only catches a validator that missed a case.
      throw new SchemaError('invalid-value', `cannot encode ${writer.kind} v${writer.version}`, { cause: err });
    }
    if (end >= 0) return Buffer.from(scratch.subarray(0, end));
    // avsc returns minus the missing byte count when the buffer is too small.
    scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
  }
}

const resolvers = new WeakMap<avro.Type, Map<number, avro.Resolver>>();

function resolverFor(reader: avro.Type, writer: SchemaDescriptor): avro.Resolver {
  let byWriter = resolvers.get(reader);
  if (byWriter === undefined) {
    byWriter = new Map();
    resolvers.set(reader, byWriter);
  }
  let resolver = byWriter.get(writer.id);
  if (resolver === undefined) {
    resolver = reader.createResolver(writer.type);
    byWriter.set(writer.id, resolver);
  }
  return resolver;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads and checks the two header bytes. */
export function readHeader(bytes: Uint8Array): DecodeResult<SchemaDescriptor> {
  if (bytes.length === 0) return fail('truncated', 'empty record');
  if (bytes[0] !== WIRE_MAGIC) return fail('bad-magic', `first byte 0x${(bytes[0] ?? 0).toString(16)} is not 0xc5`);
  if (bytes.length < HEADER_BYTES) return fail('truncated', 'record ends inside the header');
  const id = bytes[1] ?? 0;
  const writer = WRITER_SCHEMAS.get(id);
  if (writer === undefined) return fail('unknown-schema', `schema id ${id} is unknown to this reader (upgrade readers before writers)`);
  return ok(writer);
}

/**
 * Decodes a framed record into `reader`'s shape, resolving from the writer schema named
 * in the header (so a newer reader reads older records). Only writers whose kind is in
 * `accept` are read. Never throws. The value is avsc's raw output: validate before use.
 */
export function decodeAvro(
  bytes: Uint8Array,
  reader: avro.Type,
  accept: readonly RecordKind[],
): DecodeResult<{ readonly writer: SchemaDescriptor; readonly value: unknown }> {
  const header = readHeader(bytes);
  if (!header.ok) return header;
  const writer = header.value;
  if (!accept.includes(writer.kind)) return fail('wrong-schema', `expected ${accept.join(' or ')}, got ${writer.kind} v${writer.version}`);
  const buf = asBuffer(bytes);
  if (writer.hasBlocks) {
    const end = checkBounds(writer.type, buf, HEADER_BYTES);
    if (typeof end !== 'number') return fail(end.code, `${writer.kind} v${writer.version}: ${end.message}`);
  }
  let decoded: { value: unknown; offset: number };
  try {
    if (reader === writer.type) {
      decoded = reader.decode(buf, HEADER_BYTES);
    } else {
      decoded = reader.decode(buf, HEADER_BYTES, resolverFor(reader, writer));
    }
  } catch (err) {
    return fail('invalid-body', `${writer.kind} v${writer.version} body does not decode: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  if (decoded.offset < 0) return fail('truncated', `${writer.kind} v${writer.version} body is truncated`);
  if (decoded.offset !== buf.length) return fail('trailing-bytes', `${buf.length - decoded.offset} bytes after the record`);
  return ok({ writer, value: decoded.value });
}
