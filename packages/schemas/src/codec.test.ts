import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AGG_TRADE_BATCH_V1,
  AGG_TRADE_V1,
  MAX_LONG,
  SchemaError,
  SYMBOL_CONFIG_V1,
  WIRE_MAGIC,
  decodeSymbolConfig,
  decodeTrade,
  decodeTradeRecord,
  encodeSymbolConfig,
  encodeTrade,
  encodeTradeBatch,
  type DecodeResult,
} from './index.js';
import type { AggTrade } from '@cvd/core';
import { BIG_TRADE, FULL_CONFIG, SMALL_TRADE } from './fixtures/wire-vectors.js';

function errCode<T>(r: DecodeResult<T>): string {
  assert.equal(r.ok, false, 'expected a decode failure');
  if (r.ok) return '';
  assert.ok(r.error instanceof SchemaError);
  assert.equal(r.error.retriable, false);
  return r.error.code;
}

test('round-trip: non-ASCII symbols, big ids, long decimal strings', () => {
  const cases: AggTrade[] = [
    SMALL_TRADE,
    BIG_TRADE,
    { ...SMALL_TRADE, symbol: 'ÄÖÜ€USDT', price: '123456789012345678901234567890.123456789012345678901234567890' },
    { ...SMALL_TRADE, market: 'coinm', symbol: 'BTCUSD_250926', qty: '0', aggId: 0, firstId: 0, lastId: 0 },
    { ...SMALL_TRADE, aggId: MAX_LONG, firstId: MAX_LONG, lastId: MAX_LONG, tradeTimeMs: MAX_LONG },
  ];
  for (const t of cases) {
    assert.deepEqual(decodeTrade(encodeTrade(t)), { ok: true, value: t });
    assert.deepEqual(decodeTradeRecord(encodeTrade(t)), { ok: true, value: [t] });
  }
});

test('batch keeps per-key order and repeats market/symbol on every trade', () => {
  const trades = Array.from({ length: 500 }, (_, i) => ({ ...BIG_TRADE, aggId: BIG_TRADE.aggId + i, buyerMaker: i % 3 === 0 }));
  const buf = encodeTradeBatch(trades);
  assert.deepEqual(decodeTradeRecord(buf), { ok: true, value: trades });
  assert.ok(buf.length > 16 * 1024, 'exercises scratch growth');
  assert.equal(errCode(decodeTrade(buf)), 'wrong-schema');
});

test('encoders reject contract violations with invalid-value', () => {
  const bad: Array<Partial<AggTrade>> = [
    { price: '1e5' },
    { qty: '-1' },
    { qty: '' },
    { symbol: '' },
    { symbol: 'usdm:BTC' },
    { symbol: 'BTC USDT' },
    { aggId: -1 },
    { aggId: 1.5 },
    { aggId: MAX_LONG + 1 },
    { firstId: 3, lastId: 2 },
    { market: 'futures' as AggTrade['market'] },
  ];
  for (const patch of bad) {
    assert.throws(
      () => encodeTrade({ ...SMALL_TRADE, ...patch }),
      (e: unknown) => e instanceof SchemaError && e.code === 'invalid-value',
      JSON.stringify(patch),
    );
  }
  assert.throws(() => encodeTradeBatch([]), SchemaError);
  assert.throws(() => encodeTradeBatch([SMALL_TRADE, { ...SMALL_TRADE, symbol: 'ETHUSDT' }]), /mixes/);
  assert.throws(() => encodeSymbolConfig({ ...FULL_CONFIG, anchorCvd: 'abc' }), SchemaError);
  assert.throws(() => encodeSymbolConfig({ ...FULL_CONFIG, source: '' }), SchemaError);
});

test('decode checks each trade with the core check and names its problem', () => {
  const raw = (t: AggTrade): Buffer => Buffer.concat([Buffer.from([WIRE_MAGIC, AGG_TRADE_V1.id]), AGG_TRADE_V1.type.toBuffer(t)]);
  const cases: Array<[Partial<AggTrade>, RegExp]> = [
    [{ qty: '-0' }, /invalid-decimal: qty is negative/],
    [{ price: '1e5' }, /invalid-decimal: price uses exponent/],
    [{ symbol: 'BTC@USDT' }, /invalid-symbol/],
    [{ firstId: 3, lastId: 2 }, /invalid-id: firstId is above lastId \(3 > 2\)/],
  ];
  for (const [patch, message] of cases) {
    const r = decodeTrade(raw({ ...SMALL_TRADE, ...patch }));
    assert.equal(errCode(r), 'invalid-value', JSON.stringify(patch));
    assert.match(r.ok ? '' : r.error.message, message);
  }
});

test('symbol config round-trips, optional fields default to null', () => {
  const c = { ...FULL_CONFIG, symbol: '币安人生USDT', notes: { 'ключ': 'значение', empty: '' } };
  assert.deepEqual(decodeSymbolConfig(encodeSymbolConfig(c)), { ok: true, value: c });
  const r = decodeSymbolConfig(encodeSymbolConfig({ ...FULL_CONFIG, anchorCvd: undefined, notes: undefined }));
  assert.ok(r.ok);
  assert.equal(r.value.anchorCvd, null);
  assert.equal(r.value.notes, null);
});

test('broken input gives typed errors', () => {
  const good = encodeTrade(SMALL_TRADE);
  assert.equal(errCode(decodeTrade(Buffer.alloc(0))), 'truncated');
  assert.equal(errCode(decodeTrade(Buffer.from([0xc5]))), 'truncated');
  assert.equal(errCode(decodeTrade(Buffer.from('{"a":1}'))), 'bad-magic');
  assert.equal(errCode(decodeTrade(Buffer.from([0xc5, 0x99, 0]))), 'unknown-schema');
  assert.equal(errCode(decodeTrade(encodeSymbolConfig(FULL_CONFIG))), 'wrong-schema');
  assert.equal(errCode(decodeSymbolConfig(good)), 'wrong-schema');
  for (let n = 2; n < good.length; n++) assert.equal(errCode(decodeTrade(good.subarray(0, n))), 'truncated', `cut at ${n}`);
  assert.equal(errCode(decodeTrade(Buffer.concat([good, Buffer.from([0])]))), 'trailing-bytes');
  const badEnum = Buffer.from(good);
  badEnum[2] = 0x08; // market index 4
  assert.equal(errCode(decodeTrade(badEnum)), 'invalid-body');
  // Well-formed Avro that breaks the contract: a non-decimal price.
  const nonDecimal = Buffer.from(good.toString('hex').replace('06302e31', '06312c35'), 'hex'); // "0.1" -> "1,5"
  assert.equal(errCode(decodeTrade(nonDecimal)), 'invalid-value');
  // Batch with a huge block count on a tiny body: rejected without looping.
  const hugeBlock = Buffer.from('c502020e42544355534454' + 'feffffffffffffff7f', 'hex');
  assert.equal(errCode(decodeTradeRecord(hugeBlock)), 'truncated');
  const hugeMap = Buffer.from(encodeSymbolConfig({ ...FULL_CONFIG, notes: {} }).toString('hex').replace(/0200$/, '02feffffff0f'), 'hex');
  assert.notEqual(decodeSymbolConfig(hugeMap).ok, true);
  // Uint8Array (not Buffer) input works.
  assert.equal(decodeTrade(new Uint8Array(good)).ok, true);
});

/** Small deterministic PRNG so a failure is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('fuzz: random and mutated buffers never throw and never hang', () => {
  const rnd = prng(20240601);
  const seeds = [
    encodeTrade(BIG_TRADE),
    encodeTradeBatch([SMALL_TRADE, SMALL_TRADE, SMALL_TRADE]),
    encodeSymbolConfig(FULL_CONFIG),
  ];
  const ids = [AGG_TRADE_V1.id, AGG_TRADE_BATCH_V1.id, SYMBOL_CONFIG_V1.id];
  const decoders = [decodeTrade, decodeTradeRecord, decodeSymbolConfig] as const;
  let decodedOk = 0;
  for (let i = 0; i < 6_000; i++) {
    let buf: Buffer;
    const mode = i % 3;
    if (mode === 0) {
      // Pure noise.
      buf = Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
    } else if (mode === 1) {
      // Valid header, random body.
      const body = Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256));
      buf = Buffer.from([0xc5, ids[i % ids.length] ?? 1, ...body]);
    } else {
      // A valid record with a few bytes flipped, and maybe truncated or extended.
      buf = Buffer.from(seeds[i % seeds.length] as Buffer);
      for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) buf[2 + Math.floor(rnd() * (buf.length - 2))] = Math.floor(rnd() * 256);
      if (rnd() < 0.3) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
    }
    for (const decode of decoders) {
      let r: DecodeResult<unknown>;
      try {
        r = decode(buf);
      } catch (err) {
        assert.fail(`decoder threw on ${buf.toString('hex')}: ${String(err)}`);
      }
      if (r.ok) decodedOk++;
      else assert.ok(r.error instanceof SchemaError);
    }
  }
  // Both outcomes were exercised: some mutated records still decode, the rest are refused.
  assert.ok(decodedOk > 0 && decodedOk < 6_000 * decoders.length, `${decodedOk} decoded`);
});

test('bars: the encoder rejects what a reader could not trust, the decoder refuses other kinds', async () => {
  const { encodeBar, decodeBar } = await import('./index.js');
  const { FORMING_BAR } = await import('./fixtures/wire-vectors.js');
  const cases: [Partial<Record<string, unknown>>, RegExp][] = [
    [{ ts: FORMING_BAR.ts + 1 }, /minute boundary/],
    [{ delta: '1e3' }, /delta .* decimal/],
    [{ market: 'futures' }, /unknown market/],
    [{ trades: -1 }, /trades must be an integer/],
    [{ final: 'yes' }, /final must be a boolean/],
  ];
  for (const [patch, why] of cases) {
    assert.throws(() => encodeBar({ ...FORMING_BAR, ...patch } as typeof FORMING_BAR), (e: unknown) => e instanceof SchemaError && why.test(e.message));
  }
  const asTrade = decodeBar(encodeTrade(SMALL_TRADE));
  assert.equal(asTrade.ok, false);
  assert.deepEqual(decodeBar(encodeBar({ ...FORMING_BAR, final: true })), { ok: true, value: { ...FORMING_BAR, final: true } });
});
