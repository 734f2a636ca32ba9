/**
 * `@cvd/engine` — the pure CVD engine: exact decimals and the 1-minute bar reducer.
 * No I/O, no clock: time arrives with the trades and the caller's watermark.
 */
export {
  Decimal,
  DECIMAL_PARSE_ERRORS,
  MAX_DECIMAL_LENGTH,
  decimal,
  parseDecimal,
  type DecimalParseError,
  type DecimalParseResult,
} from './decimal.js';
export { ENGINE_ERROR_CODES, EngineError, type EngineErrorCode } from './errors.js';
export { DEFAULT_OPTIONS, MINUTE_MS, expiresAt, finalAt, minuteOf, resolveOptions, type EngineOptions } from './options.js';
export type { EngineTrade } from './trade.js';
export type { BarRow } from './bar.js';
export { createState, type EngineState } from './state.js';
export { applyBatch, setAnchor, type BatchResult, type BatchStats, type RejectReason, type RejectedTrade } from './engine.js';
export { STATE_FORMAT, STATE_VERSION, deserializeState, serializeState } from './serialize.js';
export { StateSerializer, concatPieces, piecesByteLength, type SerializeStats, type StatePieces } from './state-serializer.js';
