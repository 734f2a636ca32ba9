/**
 * Sends Kafka refuses for good, and how big a record is on the wire.
 *
 * kafkajs 2.2.4 surfaces a produce error as a `KafkaJSProtocolError` (its `type` names the
 * broker's error code) — bailed out at once when kafkajs marks the code not retriable, wrapped
 * in a `KafkaJSNonRetriableError` (`cause` = the protocol error), or, for a code it retries
 * (`CORRUPT_MESSAGE`), in a `KafkaJSNumberOfRetriesExceeded` once its retries ran out. Admin
 * calls may throw a `KafkaJSAggregateError` (`errors`). {@link refusalReason} walks all of
 * these.
 */
import type { IHeaders } from 'kafkajs';
import type { OutMessage } from './sender.js';

/**
 * Why the broker refused a record for good (kebab-case codes, docs/ERRORS.md):
 * - `too-large`: the record (or its partition's batch) exceeds the topic's `max.message.bytes`
 *   (`MESSAGE_TOO_LARGE`, `RECORD_LIST_TOO_LARGE`);
 * - `invalid-record`: the broker's validation refused it (`INVALID_RECORD`, `CORRUPT_MESSAGE`,
 *   `UNSUPPORTED_FOR_MESSAGE_FORMAT`);
 * - `not-authorised`: the credentials may not write the topic (`TOPIC_AUTHORIZATION_FAILED`,
 *   `CLUSTER_AUTHORIZATION_FAILED`, `TRANSACTIONAL_ID_AUTHORIZATION_FAILED`);
 * - `invalid-topic`: the topic name is not a valid one (`INVALID_TOPIC_EXCEPTION`).
 */
export const REFUSAL_REASONS = ['too-large', 'invalid-record', 'not-authorised', 'invalid-topic'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

const BY_TYPE: Readonly<Record<string, RefusalReason>> = {
  MESSAGE_TOO_LARGE: 'too-large',
  RECORD_LIST_TOO_LARGE: 'too-large',
  INVALID_RECORD: 'invalid-record',
  CORRUPT_MESSAGE: 'invalid-record',
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 'invalid-record',
  TOPIC_AUTHORIZATION_FAILED: 'not-authorised',
  CLUSTER_AUTHORIZATION_FAILED: 'not-authorised',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'not-authorised',
  INVALID_TOPIC_EXCEPTION: 'invalid-topic',
};

/** Reasons that hold for every record of a topic: splitting a one-topic batch cannot help. */
export const TOPIC_WIDE_REASONS: ReadonlySet<RefusalReason> = new Set(['not-authorised', 'invalid-topic']);

/**
 * Producer-state errors: the broker lost or fenced this producer id (its sequence numbers no
 * longer line up). A fresh producer (new id) sends the same records again.
 */
const PRODUCER_STATE = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'INVALID_PRODUCER_EPOCH', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_ID_MAPPING']);

/** The broker error types (`KafkaJSProtocolError.type`) in an error, its causes and aggregated errors. */
export function kafkaErrorTypes(err: unknown): string[] {
  const types: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): void => {
    if (typeof e !== 'object' || e === null || seen.has(e) || depth > 8) return;
    seen.add(e);
    const o = e as { type?: unknown; cause?: unknown; errors?: unknown; originalError?: unknown };
    if (typeof o.type === 'string') types.push(o.type);
    visit(o.cause, depth + 1);
    visit(o.originalError, depth + 1);
    if (Array.isArray(o.errors)) for (const inner of o.errors) visit(inner, depth + 1);
  };
  visit(err, 0);
  return types;
}

/** The {@link RefusalReason} of a send error that can never succeed, or `undefined` (retriable). */
export function refusalReason(err: unknown): RefusalReason | undefined {
  for (const t of kafkaErrorTypes(err)) {
    const r = BY_TYPE[t];
    if (r !== undefined) return r;
  }
  return undefined;
}

/** True when the error says the producer's id/sequence state is gone: reconnect a fresh producer and resend. */
export function isProducerStateError(err: unknown): boolean {
  return kafkaErrorTypes(err).some((t) => PRODUCER_STATE.has(t));
}

/**
 * Wire framing of one record beyond its key, value and header bytes (record v2: length,
 * attributes, timestamp and offset deltas, key/value lengths and header count as varints),
 * rounded up; {@link HEADER_OVERHEAD_BYTES} per header (its two length varints).
 */
export const RECORD_OVERHEAD_BYTES = 32;
export const HEADER_OVERHEAD_BYTES = 8;
/** The record-batch header per partition (magic v2): 61 bytes. */
export const BATCH_OVERHEAD_BYTES = 61;

function bytesOf(v: string | Buffer | undefined | null): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/** Header key + value bytes plus framing. */
export function headerBytes(headers: IHeaders | undefined): number {
  if (headers === undefined) return 0;
  let n = 0;
  for (const [k, v] of Object.entries(headers)) {
    const values = Array.isArray(v) ? v : [v];
    for (const one of values) n += Buffer.byteLength(k) + bytesOf(one as string | Buffer | undefined) + HEADER_OVERHEAD_BYTES;
  }
  return n;
}

/** What one record costs against `max.message.bytes`: key + value + headers + framing. */
export function recordBytes(message: OutMessage): number {
  return bytesOf(message.key) + bytesOf(message.value) + headerBytes(message.headers) + RECORD_OVERHEAD_BYTES;
}

/** Bytes of the payload kept in a dead letter written for a refused record. */
export const REFUSED_KEEP_BYTES = 1024;
/** Characters kept of each header copied from a refused record. */
const HEADER_KEEP_CHARS = 200;

function headerText(v: IHeaders[string]): string | undefined {
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined) return undefined;
  return (typeof one === 'string' ? one : one.toString('utf8')).slice(0, HEADER_KEEP_CHARS);
}

/**
 * The dead letter for a record Kafka refused for good, or `undefined` when `message` is itself
 * such a dead letter (header `refused`): a refused dead letter is truncated once, then dropped —
 * never retried. The new record keeps the head of the payload ({@link REFUSED_KEEP_BYTES}),
 * the original's headers cut to 200 characters (at most 8), and says what happened: `reason`
 * (`refused-<reason>` for a record of another topic; a dead letter keeps its own reason),
 * `refused`, `source-topic`, `truncated`, `original-bytes`.
 */
export function refusedDeadLetter(topic: string, message: OutMessage, reason: RefusalReason, options: { isDeadLetter: boolean }): OutMessage | undefined {
  if (message.headers?.refused !== undefined) return undefined;
  const value = message.value ?? Buffer.alloc(0);
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {}).slice(0, 8)) {
    const text = headerText(v);
    if (text !== undefined) kept[k.slice(0, 64)] = text;
  }
  const headers: Record<string, string> = {
    ...kept,
    reason: options.isDeadLetter ? (kept.reason ?? `refused-${reason}`) : `refused-${reason}`,
    refused: reason,
    'source-topic': options.isDeadLetter ? (kept['source-topic'] ?? topic) : topic,
    truncated: String(value.length > REFUSED_KEEP_BYTES),
    'original-bytes': String(recordBytes(message)),
  };
  return { key: message.key, value: value.subarray(0, REFUSED_KEEP_BYTES), headers };
}
