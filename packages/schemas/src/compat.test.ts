import { test } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import {
  AGG_TRADE_SCHEMA_V1,
  CURRENT_SCHEMAS,
  SYMBOL_CONFIG_SCHEMA_V1,
  WRITER_SCHEMAS,
  decodeAvro,
  encodeSymbolConfig,
  encodeTrade,
} from './index.js';
import { BIG_TRADE, FULL_CONFIG, SMALL_TRADE_HEX } from './fixtures/wire-vectors.js';

type RecordSchema = { fields: unknown[] } & Record<string, unknown>;

/** A plausible AggTrade v2: same name, two appended fields with defaults. */
const AGG_TRADE_V2 = avro.Type.forSchema({
  ...(AGG_TRADE_SCHEMA_V1 as unknown as RecordSchema),
  fields: [
    ...(AGG_TRADE_SCHEMA_V1 as unknown as RecordSchema).fields,
    { name: 'ingestId', type: ['null', 'string'], default: null },
    { name: 'isBestMatch', type: 'boolean', default: true },
  ],
} as avro.Schema);

test('backward compat: a v2 reader reads v1 records (new fields take their defaults)', () => {
  for (const buf of [encodeTrade(BIG_TRADE), Buffer.from(SMALL_TRADE_HEX, 'hex')]) {
    const r = decodeAvro(buf, AGG_TRADE_V2, ['agg-trade']);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    const value = r.value.value as Record<string, unknown>;
    assert.equal(r.value.writer.version, 1);
    assert.equal(value['ingestId'], null);
    assert.equal(value['isBestMatch'], true);
  }
  const big = decodeAvro(encodeTrade(BIG_TRADE), AGG_TRADE_V2, ['agg-trade']);
  assert.ok(big.ok);
  assert.equal((big.value.value as Record<string, unknown>)['symbol'], BIG_TRADE.symbol);
  assert.equal((big.value.value as Record<string, unknown>)['lastId'], BIG_TRADE.lastId);
});

test('backward compat: a SymbolConfig v2 reader with a new field reads v1', () => {
  const v2 = avro.Type.forSchema({
    ...(SYMBOL_CONFIG_SCHEMA_V1 as unknown as RecordSchema),
    fields: [...(SYMBOL_CONFIG_SCHEMA_V1 as unknown as RecordSchema).fields, { name: 'priority', type: 'int', default: 0 }],
  } as avro.Schema);
  const r = decodeAvro(encodeSymbolConfig(FULL_CONFIG), v2, ['symbol-config']);
  assert.ok(r.ok);
  assert.equal((r.value.value as Record<string, unknown>)['priority'], 0);
  assert.deepEqual((r.value.value as Record<string, unknown>)['notes'], FULL_CONFIG.notes);
});

test('every published writer schema resolves to the current reader of its kind', () => {
  for (const writer of WRITER_SCHEMAS.values()) {
    const reader = CURRENT_SCHEMAS[writer.kind];
    assert.equal(reader.name, writer.name);
    assert.doesNotThrow(() => reader.type.createResolver(writer.type), `${writer.kind} v${writer.version}`);
  }
});

test('an incompatible reader is an invalid-body error, not a throw', () => {
  const incompatible = avro.Type.forSchema({
    type: 'record',
    name: 'AggTrade',
    namespace: 'cvd.v1',
    fields: [{ name: 'mandatoryNew', type: 'string' }],
  });
  const r = decodeAvro(encodeTrade(BIG_TRADE), incompatible, ['agg-trade']);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.error.code, 'invalid-body');
});

test('forward compat is not provided: an unknown writer id is reported, so readers upgrade first', () => {
  const buf = Buffer.from(encodeTrade(BIG_TRADE));
  buf[1] = 42;
  const r = decodeAvro(buf, AGG_TRADE_V2, ['agg-trade']);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.error.code, 'unknown-schema');
});
