import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_POST_ITEMS, parseAddBody } from './admin-api.js';

const body = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const rejects = (v: unknown, re: RegExp): void => {
  assert.throws(() => parseAddBody(body(v)), (err: Error & { status?: number }) => err.status === 400 && re.test(err.message));
};

test('one entry or a list; duplicates collapse', () => {
  assert.deepEqual(parseAddBody(body({ market: 'usdm', symbol: 'BTCUSDT' })), [{ market: 'usdm', symbol: 'BTCUSDT' }]);
  assert.deepEqual(parseAddBody(body([{ market: 'usdm', symbol: 'A' }, { market: 'spot', symbol: 'A' }, { market: 'usdm', symbol: 'A' }])).length, 2);
});

test('every rejection has a clear message', () => {
  rejects('{', /not valid JSON/);
  rejects([], /the list is empty/);
  rejects(Array(MAX_POST_ITEMS + 1).fill({ market: 'usdm', symbol: 'A' }), /at most 1000 entries/);
  rejects('"BTCUSDT"', /body: expected an object/);
  rejects({ market: 'usdm' }, /body: symbol is missing/);
  rejects({ symbol: 'A' }, /body: market is missing/);
  rejects({ market: 'futures', symbol: 'A' }, /body: unknown market "futures" \(expected one of spot, usdm, coinm\)/);
  rejects({ market: 'usdm', symbol: 'A', enabled: false }, /unknown field "enabled"/);
  rejects({ market: 'usdm', symbol: "A'; DROP TABLE x; --" }, /forbidden character|whitespace/);
  rejects({ market: 'usdm', symbol: 'A\u0000' }, /control/);
  rejects({ market: 'usdm', symbol: 12 }, /expected a symbol string, got number 12/);
  rejects([{ market: 'usdm', symbol: 'A' }, { market: 'usdm', symbol: 'a b' }], /^\[1\]: symbol "a b" contains whitespace/);
});
