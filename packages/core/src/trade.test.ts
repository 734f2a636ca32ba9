import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkExchangeTrade, checkTrade, isCount, isDecimal, MAX_COUNT, type AggTrade } from './trade.js';

const M0 = 1_700_000_040_000;

const TRADE: AggTrade = {
  market: 'usdm',
  symbol: 'BTCUSDT',
  aggId: 1,
  price: '100',
  qty: '1',
  firstId: 10,
  lastId: 10,
  tradeTimeMs: M0,
  eventTimeMs: M0,
  buyerMaker: false,
  recovered: false,
  receivedAtMs: M0,
};

test('a valid trade has no problem; id 0 is valid (a new listing starts there)', () => {
  assert.equal(checkTrade(TRADE), undefined);
  assert.equal(checkTrade({ ...TRADE, aggId: 0, firstId: 0, lastId: 0 }), undefined);
  assert.equal(checkTrade({ ...TRADE, aggId: MAX_COUNT, firstId: MAX_COUNT, lastId: MAX_COUNT }), undefined);
  // Zero is a decimal: the engine, not the boundary, refuses a zero price or qty.
  assert.equal(checkTrade({ ...TRADE, price: '0.000', qty: '0' }), undefined);
  const { recovered: _r, receivedAtMs: _t, ...facts } = TRADE;
  assert.equal(checkExchangeTrade(facts), undefined);
});

// The cases the engine used to reject as invalid (its old reason in the comment), now
// rejected at the boundaries with the one vocabulary. (Zero price/qty stays the engine's.)
test('every contract violation has a code, the field and a reason', () => {
  const bad: Array<[unknown, string, string | undefined, RegExp?]> = [
    [null, 'not-object', undefined], // not-an-object
    [{ ...TRADE, market: 'futures' }, 'invalid-market', 'market'],
    [{ ...TRADE, symbol: 'usdm:BTC' }, 'invalid-symbol', 'symbol'],
    [{ ...TRADE, symbol: '' }, 'invalid-symbol', 'symbol'],
    [{ ...TRADE, aggId: -1 }, 'invalid-id', 'aggId'], // invalid-agg-id
    [{ ...TRADE, aggId: 1.5 }, 'invalid-id', 'aggId'],
    [{ ...TRADE, aggId: '1' }, 'invalid-id', 'aggId'],
    [{ ...TRADE, aggId: MAX_COUNT + 1 }, 'invalid-id', 'aggId'],
    [{ ...TRADE, firstId: 5, lastId: 4 }, 'invalid-id', 'firstId', /^firstId is above lastId \(5 > 4\)$/], // invalid-trade-ids
    [{ ...TRADE, tradeTimeMs: 1.5 }, 'invalid-time', 'tradeTimeMs'], // invalid-trade-time
    [{ ...TRADE, tradeTimeMs: Number.NaN }, 'invalid-time', 'tradeTimeMs'],
    [{ ...TRADE, eventTimeMs: -1 }, 'invalid-time', 'eventTimeMs'],
    [{ ...TRADE, receivedAtMs: undefined }, 'invalid-time', 'receivedAtMs'],
    [{ ...TRADE, buyerMaker: 'true' }, 'invalid-field', 'buyerMaker'], // invalid-buyer-maker
    [{ ...TRADE, recovered: 1 }, 'invalid-field', 'recovered'], // invalid-recovered
    [{ ...TRADE, price: '1e309' }, 'invalid-decimal', 'price', /exponent/], // invalid-price
    [{ ...TRADE, price: '-100' }, 'invalid-decimal', 'price', /negative/],
    [{ ...TRADE, qty: 'NaN' }, 'invalid-decimal', 'qty', /plain decimal/], // invalid-qty
    [{ ...TRADE, qty: '' }, 'invalid-decimal', 'qty', /empty/],
    [{ ...TRADE, qty: '-0' }, 'invalid-decimal', 'qty', /negative/],
    [{ ...TRADE, qty: 0.5 }, 'invalid-decimal', 'qty', /decimal string, got number/],
    [{ ...TRADE, qty: `1.${'0'.repeat(70)}` }, 'invalid-decimal', 'qty', /above the 64 limit/],
  ];
  for (const [value, code, field, reason] of bad) {
    const p = checkTrade(value);
    assert.ok(p !== undefined, JSON.stringify(value));
    assert.equal(p.code, code, JSON.stringify(value));
    assert.equal(p.field, field, JSON.stringify(value));
    assert.ok(p.reason.length > 0);
    if (reason) assert.match(p.reason, reason);
  }
});

test('the exchange facts are checked without the pipeline fields', () => {
  assert.equal(checkExchangeTrade({ ...TRADE, recovered: 'no', receivedAtMs: -1 }), undefined);
  assert.equal(checkExchangeTrade({ ...TRADE, qty: '1e3' })?.code, 'invalid-decimal');
});

test('non-ASCII exchange symbols pass; separators, spaces, quotes and control characters do not', () => {
  assert.equal(checkTrade({ ...TRADE, symbol: '币安人生USDT' }), undefined);
  for (const symbol of ['BTC USDT', "BTC'USDT", 'a:b', 'x\u0000y']) {
    assert.equal(checkTrade({ ...TRADE, symbol })?.code, 'invalid-symbol', symbol);
  }
});

test('isCount and isDecimal', () => {
  for (const v of [0, 1, MAX_COUNT]) assert.ok(isCount(v), String(v));
  for (const v of [-1, -0, 1.5, MAX_COUNT + 1, Number.NaN, Infinity, '1', null]) assert.ok(!isCount(v), String(v));
  for (const v of ['0', '0.00100000', '42', `1.${'0'.repeat(62)}`]) assert.ok(isDecimal(v), v);
  for (const v of ['', '-1', '1e3', '.5', '5.', ' 1', '+1', 'NaN', `1.${'0'.repeat(63)}`, 1]) assert.ok(!isDecimal(v), String(v));
});
