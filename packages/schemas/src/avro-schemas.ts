import avro from 'avsc';
import { hasBlocks } from './harden.js';
import { MARKETS } from '@cvd/core';

/**
 * The Avro schemas, one source of truth. Longs are read as plain JS numbers (avsc's
 * default): every long here (ids, epoch ms) is a safe integer, avsc refuses to decode a
 * long it cannot represent exactly, and the encoders reject unsafe integers.
 *
 * A published schema never changes: a new version gets a new {@link SchemaId} with the
 * same record name (`cvd.v1.AggTrade`), so readers resolve old writers to it. Append
 * fields with defaults, never remove or reorder enum symbols.
 */

const NAMESPACE = 'cvd.v1';

const marketEnum = (): avro.Schema => ({
  type: 'enum',
  name: 'Market',
  namespace: NAMESPACE,
  symbols: [...MARKETS],
});

/** Fields an aggTrade carries beyond market and symbol (shared by single and batch records). */
const tradeFields = (): avro.Schema[] =>
  [
    { name: 'aggId', type: 'long', doc: 'Binance aggregate trade id (a)' },
    { name: 'price', type: 'string', doc: 'decimal string exactly as received (p)' },
    { name: 'qty', type: 'string', doc: 'decimal string exactly as received (q); COIN-M: contracts' },
    { name: 'firstId', type: 'long', doc: 'first trade id (f)' },
    { name: 'lastId', type: 'long', doc: 'last trade id (l)' },
    { name: 'tradeTimeMs', type: 'long', doc: 'trade time T, epoch ms; the bucketing time' },
    { name: 'eventTimeMs', type: 'long', doc: 'event time E, epoch ms' },
    { name: 'buyerMaker', type: 'boolean', doc: 'm: true = buyer is maker = taker sold' },
    { name: 'recovered', type: 'boolean', doc: 'came from REST backfill, not the websocket' },
    { name: 'receivedAtMs', type: 'long', doc: 'ingest wall clock; latency metrics only, never bucketing' },
  ] as unknown as avro.Schema[];

export const AGG_TRADE_SCHEMA_V1: avro.Schema = {
  type: 'record',
  name: 'AggTrade',
  namespace: NAMESPACE,
  doc: 'One Binance aggTrade of one market and symbol.',
  fields: [{ name: 'market', type: marketEnum() }, { name: 'symbol', type: 'string' }, ...tradeFields()],
} as avro.Schema;

export const AGG_TRADE_BATCH_SCHEMA_V1: avro.Schema = {
  type: 'record',
  name: 'AggTradeBatch',
  namespace: NAMESPACE,
  doc: 'Several aggTrades of ONE market and symbol, in arrival order.',
  fields: [
    { name: 'market', type: marketEnum() },
    { name: 'symbol', type: 'string' },
    { name: 'trades', type: { type: 'array', items: { type: 'record', name: 'BatchTrade', fields: tradeFields() } } },
  ],
} as avro.Schema;

export const SYMBOL_CONFIG_SCHEMA_V1: avro.Schema = {
  type: 'record',
  name: 'SymbolConfig',
  namespace: NAMESPACE,
  doc: 'Desired state of one symbol on the compacted cvd.symbols.v1 topic; a null value (tombstone) = removed.',
  fields: [
    { name: 'market', type: marketEnum() },
    { name: 'symbol', type: 'string' },
    { name: 'enabled', type: 'boolean' },
    { name: 'source', type: 'string', doc: 'who set it: file | api | selector (open set)' },
    { name: 'updatedAtMs', type: 'long' },
    { name: 'anchorCvd', type: ['null', 'string'], default: null, doc: 'signed decimal CVD to start from' },
    { name: 'notes', type: ['null', { type: 'map', values: 'string' }], default: null },
  ],
} as avro.Schema;

const decimalField = (name: string, doc: string): avro.Schema => ({ name, type: 'string', doc } as unknown as avro.Schema);

export const BAR_SCHEMA_V1: avro.Schema = {
  type: 'record',
  name: 'Bar',
  namespace: NAMESPACE,
  doc: 'The state of one 1-minute bar (forming or final) of one market and symbol, value of cvd.bars.v1. Decimals are exact strings, as in the engine.',
  fields: [
    { name: 'market', type: marketEnum() },
    { name: 'symbol', type: 'string' },
    { name: 'ts', type: 'long', doc: 'minute open, epoch ms (UTC)' },
    decimalField('open', 'first trade price'),
    decimalField('high', 'highest price'),
    decimalField('low', 'lowest price'),
    decimalField('close', 'last trade price'),
    decimalField('volume', 'base volume (COIN-M: contracts)'),
    decimalField('buyVolume', 'taker-buy volume'),
    decimalField('sellVolume', 'taker-sell volume'),
    decimalField('quoteVolume', 'sum of price x qty'),
    decimalField('buyQuoteVolume', 'taker-buy quote volume'),
    decimalField('sellQuoteVolume', 'taker-sell quote volume'),
    decimalField('delta', 'buyVolume - sellVolume'),
    decimalField('quoteDelta', 'buyQuoteVolume - sellQuoteVolume'),
    decimalField('cvdOpen', 'CVD before the first trade of the minute'),
    decimalField('cvdHigh', 'highest CVD within the minute'),
    decimalField('cvdLow', 'lowest CVD within the minute'),
    decimalField('cvdClose', 'CVD after the last trade of the minute'),
    { name: 'trades', type: 'long', doc: 'Binance trades (sum of l - f + 1)' },
    { name: 'aggTrades', type: 'long', doc: 'aggTrades applied' },
    { name: 'firstAggId', type: 'long' },
    { name: 'lastAggId', type: 'long' },
    { name: 'missingAggIds', type: 'long', doc: 'ids known missing within the minute' },
    { name: 'recovered', type: 'long', doc: 'aggTrades that came from REST backfill' },
    { name: 'final', type: 'boolean', doc: 'the minute is closed and will not change (barring revisions)' },
    { name: 'receivedAtMs', type: 'long', doc: 'ingest wall clock of the newest trade in this update; latency metrics only' },
    { name: 'emittedAtMs', type: 'long', doc: 'aggregator wall clock when this update was published; latency metrics only' },
  ],
} as avro.Schema;

/** Wire ids (second header byte). Never reuse or renumber one. */
export const SCHEMA_IDS = {
  aggTradeV1: 1,
  aggTradeBatchV1: 2,
  symbolConfigV1: 3,
  barV1: 4,
} as const;
export type SchemaId = (typeof SCHEMA_IDS)[keyof typeof SCHEMA_IDS];

export const RECORD_KINDS = ['agg-trade', 'agg-trade-batch', 'symbol-config', 'bar'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export interface SchemaDescriptor {
  /** Header byte identifying this writer schema. */
  readonly id: SchemaId;
  readonly kind: RecordKind;
  /** Full Avro name, shared by every version of a kind. */
  readonly name: string;
  readonly version: number;
  readonly schema: avro.Schema;
  readonly type: avro.Type;
  /** SHA-256 (hex) of the schema's Avro Parsing Canonical Form. */
  readonly fingerprint: string;
  /** Holds arrays/maps, so bodies are bounds-checked before avsc decodes them. */
  readonly hasBlocks: boolean;
}

function describe(id: SchemaId, kind: RecordKind, version: number, schema: avro.Schema): SchemaDescriptor {
  const type = avro.Type.forSchema(schema);
  const fingerprint = type.fingerprint('sha256').toString('hex');
  return Object.freeze({ id, kind, name: type.name ?? '', version, schema, type, fingerprint, hasBlocks: hasBlocks(type) });
}

export const AGG_TRADE_V1 = describe(SCHEMA_IDS.aggTradeV1, 'agg-trade', 1, AGG_TRADE_SCHEMA_V1);
export const AGG_TRADE_BATCH_V1 = describe(SCHEMA_IDS.aggTradeBatchV1, 'agg-trade-batch', 1, AGG_TRADE_BATCH_SCHEMA_V1);
export const SYMBOL_CONFIG_V1 = describe(SCHEMA_IDS.symbolConfigV1, 'symbol-config', 1, SYMBOL_CONFIG_SCHEMA_V1);
export const BAR_V1 = describe(SCHEMA_IDS.barV1, 'bar', 1, BAR_SCHEMA_V1);

/** Every writer schema ever published, by wire id. */
export const WRITER_SCHEMAS: ReadonlyMap<number, SchemaDescriptor> = new Map(
  [AGG_TRADE_V1, AGG_TRADE_BATCH_V1, SYMBOL_CONFIG_V1, BAR_V1].map((d) => [d.id, d]),
);

/** What this code writes and reads, per kind. */
export const CURRENT_SCHEMAS: Readonly<Record<RecordKind, SchemaDescriptor>> = {
  'agg-trade': AGG_TRADE_V1,
  'agg-trade-batch': AGG_TRADE_BATCH_V1,
  'symbol-config': SYMBOL_CONFIG_V1,
  bar: BAR_V1,
};
