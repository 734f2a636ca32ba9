import { test } from 'node:test';
import assert from 'node:assert/strict';
import { key, parseKey, SchemaError } from './index.js';

test('key builds market:SYMBOL and parseKey inverts it', () => {
  assert.equal(key('usdm', 'BTCUSDT'), 'usdm:BTCUSDT');
  assert.equal(key('spot', '币安人生USDT'), 'spot:币安人生USDT');
  assert.deepEqual(parseKey('coinm:BTCUSD_PERP'), { ok: true, value: { market: 'coinm', symbol: 'BTCUSD_PERP' } });
  assert.deepEqual(parseKey(Buffer.from('spot:币安人生USDT')), { ok: true, value: { market: 'spot', symbol: '币安人生USDT' } });
});

test('invalid keys', () => {
  assert.throws(() => key('futures' as 'spot', 'BTCUSDT'), (e: unknown) => e instanceof SchemaError && e.code === 'invalid-key');
  assert.throws(() => key('spot', ''), SchemaError);
  assert.throws(() => key('spot', 'A:B'), SchemaError);
  for (const k of [null, undefined, '', 'BTCUSDT', 'spot:', 'spot:A B', 'perp:BTCUSDT', ':BTCUSDT', 'spot:a:b']) {
    const r = parseKey(k);
    assert.equal(r.ok, false, String(k));
    if (!r.ok) assert.equal(r.error.code, 'invalid-key');
  }
});
