import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeSymbolConfig,
  decodeTrade,
  decodeTradeRecord,
  encodeSymbolConfig,
  encodeTrade,
  encodeTradeBatch,
  encodeBar,
  decodeBar,
  WRITER_SCHEMAS,
} from './index.js';
import * as v from './fixtures/wire-vectors.js';

const hex = (b: Buffer): string => b.toString('hex');
const bytes = (h: string): Buffer => Buffer.from(h, 'hex');

test('encoders produce the recorded bytes', () => {
  assert.equal(hex(encodeTrade(v.SMALL_TRADE)), v.SMALL_TRADE_HEX);
  assert.equal(hex(encodeTrade(v.BIG_TRADE)), v.BIG_TRADE_HEX);
  assert.equal(hex(encodeTradeBatch(v.BATCH_TRADES)), v.BATCH_HEX);
  assert.equal(hex(encodeSymbolConfig(v.FULL_CONFIG)), v.FULL_CONFIG_HEX);
  assert.equal(hex(encodeSymbolConfig(v.MINIMAL_CONFIG)), v.MINIMAL_CONFIG_HEX);
});

test('hand-checked header and first body bytes', () => {
  const small = bytes(v.SMALL_TRADE_HEX);
  assert.deepEqual([...small.subarray(0, 4)], [0xc5, 1, 2 /* usdm = index 1 zigzag */, 14 /* len 7 */]);
  assert.equal(small.subarray(4, 11).toString('utf8'), 'BTCUSDT');
  assert.equal(small[11], 10); // aggId 5, zigzag
  const big = bytes(v.BIG_TRADE_HEX);
  assert.deepEqual([...big.subarray(0, 4)], [0xc5, 1, 0 /* spot */, 32 /* 16 UTF-8 bytes */]);
  assert.equal(big.subarray(4, 20).toString('utf8'), '币安人生USDT');
  assert.deepEqual([...bytes(v.BATCH_HEX).subarray(0, 2)], [0xc5, 2]);
  assert.deepEqual([...bytes(v.FULL_CONFIG_HEX).subarray(0, 3)], [0xc5, 3, 4 /* coinm */]);
  assert.deepEqual([...bytes(v.FORMING_BAR_HEX).subarray(0, 4)], [0xc5, 4, 2 /* usdm */, 14 /* 7 UTF-8 bytes */]);
});

test('a bar encodes to the recorded bytes and decodes back', () => {
  assert.equal(hex(encodeBar(v.FORMING_BAR)), v.FORMING_BAR_HEX);
  assert.deepEqual(decodeBar(bytes(v.FORMING_BAR_HEX)), { ok: true, value: v.FORMING_BAR });
});

test('recorded bytes decode to the recorded values', () => {
  assert.deepEqual(decodeTrade(bytes(v.SMALL_TRADE_HEX)), { ok: true, value: v.SMALL_TRADE });
  assert.deepEqual(decodeTrade(bytes(v.BIG_TRADE_HEX)), { ok: true, value: v.BIG_TRADE });
  assert.deepEqual(decodeTradeRecord(bytes(v.BATCH_HEX)), { ok: true, value: v.BATCH_TRADES });
  assert.deepEqual(decodeSymbolConfig(bytes(v.FULL_CONFIG_HEX)), { ok: true, value: v.FULL_CONFIG });
  assert.deepEqual(decodeSymbolConfig(bytes(v.MINIMAL_CONFIG_HEX)), {
    ok: true,
    value: { ...v.MINIMAL_CONFIG, anchorCvd: null, notes: null },
  });
});

test('published schemas keep their fingerprints (a change needs a new schema id)', () => {
  assert.deepEqual(
    Object.fromEntries([...WRITER_SCHEMAS].map(([id, d]) => [id, d.fingerprint])),
    v.PINNED_FINGERPRINTS,
  );
});
