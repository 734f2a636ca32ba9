import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeSymbolConfig } from '@cvd/schemas';
import { SymbolSet, symbolChange } from './symbols.js';

const cfg = (market: 'spot' | 'usdm', symbol: string, enabled = true): Buffer =>
  encodeSymbolConfig({ market, symbol, enabled, source: 'api', updatedAtMs: 1 });

describe('symbolChange', () => {
  test('enabled config, disabled config and tombstone', () => {
    assert.deepEqual(symbolChange(Buffer.from('spot:BTCUSDT'), cfg('spot', 'BTCUSDT')), { kind: 'enable', market: 'spot', symbol: 'BTCUSDT' });
    assert.deepEqual(symbolChange(Buffer.from('usdm:ETHUSDT'), cfg('usdm', 'ETHUSDT', false)), { kind: 'disable', market: 'usdm', symbol: 'ETHUSDT' });
    assert.deepEqual(symbolChange(Buffer.from('usdm:ETHUSDT'), null), { kind: 'disable', market: 'usdm', symbol: 'ETHUSDT' });
  });

  test('non-ASCII symbols', () => {
    assert.deepEqual(symbolChange(Buffer.from('spot:币安人生USDT'), cfg('spot', '币安人生USDT')), { kind: 'enable', market: 'spot', symbol: '币安人生USDT' });
  });

  test('undecodable records are invalid, never thrown', () => {
    assert.equal(symbolChange(null, cfg('spot', 'BTCUSDT')).kind, 'invalid');
    assert.equal(symbolChange(Buffer.from('nyse:IBM'), cfg('spot', 'BTCUSDT')).kind, 'invalid');
    assert.equal(symbolChange(Buffer.from('spot:BTCUSDT'), Buffer.from('garbage')).kind, 'invalid');
    assert.equal(symbolChange(Buffer.from('spot:BTCUSDT'), cfg('spot', 'ETHUSDT')).kind, 'invalid');
  });
});

describe('SymbolSet', () => {
  test('reports only real changes', () => {
    const set = new SymbolSet();
    const on = { kind: 'enable', market: 'spot', symbol: 'A' } as const;
    const off = { kind: 'disable', market: 'spot', symbol: 'A' } as const;
    assert.deepEqual(set.apply(on), on);
    assert.equal(set.apply(on), undefined);
    assert.equal(set.count('spot'), 1);
    assert.deepEqual(set.apply(off), off);
    assert.equal(set.apply(off), undefined);
    assert.equal(set.apply({ kind: 'invalid', reason: 'x' }), undefined);
    assert.equal(set.has('spot', 'A'), false);
  });
});
