/**
 * `@cvd/schemas` — the Avro wire format of `cvd.trades.v1`, `cvd.symbols.v1` and `cvd.bars.v1`. The trade
 * type, markets, the symbol rule and the key are the core's (`@cvd/core`); this package is
 * the record boundary that checks them on encode and decode.
 */
export { MAX_LONG, isSignedDecimal } from './values.js';
export { key, parseKey } from './key.js';
export type { MarketSymbol } from './key.js';
export { SCHEMA_ERROR_CODES, SchemaError } from './schema-error.js';
export type { DecodeResult, SchemaErrorCode } from './schema-error.js';
export {
  AGG_TRADE_BATCH_SCHEMA_V1,
  BAR_SCHEMA_V1,
  BAR_V1,
  AGG_TRADE_BATCH_V1,
  AGG_TRADE_SCHEMA_V1,
  AGG_TRADE_V1,
  CURRENT_SCHEMAS,
  RECORD_KINDS,
  SCHEMA_IDS,
  SYMBOL_CONFIG_SCHEMA_V1,
  SYMBOL_CONFIG_V1,
  WRITER_SCHEMAS,
} from './avro-schemas.js';
export type { RecordKind, SchemaDescriptor, SchemaId } from './avro-schemas.js';
export { HEADER_BYTES, WIRE_MAGIC, decodeAvro, readHeader } from './wire.js';
export { decodeTrade, decodeTradeRecord, encodeTrade, encodeTradeBatch } from './agg-trade.js';
export { KNOWN_SYMBOL_SOURCES, checkSymbolConfig, decodeSymbolConfig, encodeSymbolConfig } from './symbol-config.js';
export type { SymbolConfig, SymbolConfigInput } from './symbol-config.js';
export { checkBar, decodeBar, encodeBar } from './bar.js';
export type { BarRecord } from './bar.js';
