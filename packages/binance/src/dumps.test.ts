import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { AggTradesDumpParser, DumpError, dumpPathInfo, parseAggTradesDump, unzipFirstEntry, zipFirstEntry } from './dumps.js';

const SPOT_US = [
  '3000001,67000.01000000,0.00150000,4000001,4000001,1735689600123456,True,True',
  '3000002,67000.02000000,0.25000000,4000002,4000004,1735689600999999,False,True',
].join('\n');

const USDM_HEADER = [
  'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker',
  '100,60000.1,0.010,200,201,1714521600000,true',
  '101,60000.2,0.020,202,202,1714521600500,false',
  '',
].join('\r\n');

test('spot: no header, microseconds, True/False', () => {
  const r = parseAggTradesDump(SPOT_US, { market: 'spot', symbol: 'BTCUSDT' });
  assert.equal(r.header, false);
  assert.equal(r.timeUnit, 'us');
  assert.equal(r.rows, 2);
  assert.deepEqual(r.trades[0], {
    market: 'spot', symbol: 'BTCUSDT', aggId: 3000001, price: '67000.01000000', qty: '0.00150000', firstId: 4000001, lastId: 4000001,
    tradeTimeMs: 1735689600123, eventTimeMs: 1735689600123, buyerMaker: true, tradeTimeUs: 1735689600123456,
  });
  assert.equal(r.trades[1]?.buyerMaker, false);
  assert.equal(r.trades[1]?.tradeTimeMs, 1735689600999);
});

test('futures: header (CRLF), milliseconds, columns mapped by name', () => {
  const r = parseAggTradesDump(USDM_HEADER, { market: 'usdm', symbol: 'BTCUSDT' });
  assert.equal(r.header, true);
  assert.equal(r.timeUnit, 'ms');
  assert.deepEqual(r.trades.map((t) => [t.aggId, t.qty, t.tradeTimeMs, t.buyerMaker, 'tradeTimeUs' in t]), [[100, '0.010', 1714521600000, true, false], [101, '0.020', 1714521600500, false, false]]);
  const reordered = 'price,agg_trade_id,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n5.5,7,1,1,1,1714521600000,false\n';
  assert.deepEqual(parseAggTradesDump(reordered, { market: 'usdm', symbol: 'X' }).trades.map((t) => [t.aggId, t.price]), [[7, '5.5']]);
});

test('mixed ms and µs rows are converted per row', () => {
  const r = parseAggTradesDump('1,1,1,1,1,1735689599999,false\n2,1,1,2,2,1735689600000001,false\n', { market: 'spot', symbol: 'X' });
  assert.equal(r.timeUnit, 'mixed');
  assert.deepEqual(r.trades.map((t) => t.tradeTimeMs), [1735689599999, 1735689600000]);
});

test('rows out of order are sorted by id, repeated ids dropped', () => {
  const text = ['12,1,1,12,12,1714521600002,false', '10,1,1,10,10,1714521600000,false', '11,1,2,11,11,1714521600001,true', '11,1,2,11,11,1714521600001,true'].join('\n');
  const r = parseAggTradesDump(text, { market: 'usdm', symbol: 'X' });
  assert.equal(r.outOfOrder, true);
  assert.equal(r.duplicates, 1);
  assert.equal(r.rows, 4);
  assert.deepEqual(r.trades.map((t) => t.aggId), [10, 11, 12]);
  assert.equal(parseAggTradesDump(USDM_HEADER, { market: 'usdm', symbol: 'X' }).outOfOrder, false);
});

test('zero quantities are counted and dropped by default, kept on request', () => {
  const text = '1,1,0.000,1,1,1714521600000,false\n2,1,0,2,2,1714521600000,true\n3,1,0.5,3,3,1714521600000,true\n';
  const r = parseAggTradesDump(text, { market: 'usdm', symbol: 'X' });
  assert.equal(r.zeroQuantity, 2);
  assert.equal(r.rows, 3);
  assert.deepEqual(r.trades.map((t) => t.aggId), [3]);
  assert.deepEqual(parseAggTradesDump(text, { market: 'usdm', symbol: 'X', keepZeroQuantity: true }).trades.map((t) => t.aggId), [1, 2, 3]);
});

test('bad rows fail with the file name and line number', () => {
  const cases: [string, RegExp][] = [
    ['1,1,1,1,1,1714521600000,false\n2,abc,1,2,2,1714521600000,false', /f\.csv: line 2: bad price/],
    ['1,1,-1,1,1,1714521600000,false', /line 1: bad quantity/],
    ['1,1,1e3,1,1,1714521600000,false', /bad quantity/],
    ['1,1,1,5,4,1714521600000,false', /bad first\/last trade id/],
    ['1,1,1,1,1,,false', /bad transact_time/],
    ['1,1,1,1,1,1714521600000,maybe', /bad is_buyer_maker/],
    ['1,1,1,1,1,1714521600000', /bad is_buyer_maker/],
    ['a,b\n', /header with fewer than 7 columns/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseAggTradesDump(text, { market: 'usdm', symbol: 'X', name: 'f.csv' }), (e: unknown) => e instanceof DumpError && e.code === 'bad-row' && re.test(e.message), text);
  }
  assert.throws(() => parseAggTradesDump('', { market: 'usdm', symbol: 'A B' }), (e: unknown) => e instanceof DumpError && e.code === 'bad-symbol');
});

test('incremental parsing in arbitrary chunks equals the whole-text parse', () => {
  const whole = parseAggTradesDump(USDM_HEADER + SPOT_US, { market: 'usdm', symbol: 'X' });
  for (const size of [1, 3, 7, 50]) {
    const p = new AggTradesDumpParser({ market: 'usdm', symbol: 'X' });
    const text = USDM_HEADER + SPOT_US;
    for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
    assert.deepEqual(p.finish(), whole);
  }
});

/** A one-entry zip as data.binance.vision makes them (with a data descriptor flag, sizes in the central directory). */
function makeZip(name: string, content: Buffer, method: 0 | 8 = 8): Buffer {
  const data = method === 8 ? deflateRawSync(content) : content;
  const nameBuf = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(0x08, 6);
  local.writeUInt16LE(method, 8);
  local.writeUInt16LE(nameBuf.length, 26);
  const cd = Buffer.alloc(46);
  cd.writeUInt32LE(0x02014b50, 0);
  cd.writeUInt16LE(20, 4);
  cd.writeUInt16LE(20, 6);
  cd.writeUInt16LE(0x08, 8);
  cd.writeUInt16LE(method, 10);
  cd.writeUInt32LE(data.length, 20);
  cd.writeUInt32LE(content.length, 24);
  cd.writeUInt16LE(nameBuf.length, 28);
  cd.writeUInt32LE(0, 42);
  const cdOffset = local.length + nameBuf.length + data.length;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(cd.length + nameBuf.length, 12);
  eocd.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, nameBuf, data, cd, nameBuf, eocd]);
}

test('zip: first entry, stored or deflated; damaged archives are DumpError bad-zip', () => {
  const csv = Buffer.from(SPOT_US);
  for (const method of [0, 8] as const) {
    const zip = makeZip('BTCUSDT-aggTrades-2025-01-01.csv', csv, method);
    assert.deepEqual(unzipFirstEntry(zip), csv);
    const e = zipFirstEntry(zip);
    assert.equal(e.name, 'BTCUSDT-aggTrades-2025-01-01.csv');
    assert.equal(e.method, method);
    assert.equal(e.uncompressedSize, csv.length);
  }
  for (const bad of [Buffer.from('not a zip at all, just text that is long enough'), makeZip('a.csv', csv).subarray(0, 40)]) {
    assert.throws(() => unzipFirstEntry(bad), (e: unknown) => e instanceof DumpError && e.code === 'bad-zip');
  }
});

test('dumpPathInfo: market from the data.binance.vision path, symbol from the file name', () => {
  assert.deepEqual(dumpPathInfo('/dl/data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-05-01.zip'), { market: 'usdm', symbol: 'BTCUSDT' });
  assert.deepEqual(dumpPathInfo('data/futures/cm/monthly/aggTrades/BTCUSD_PERP/BTCUSD_PERP-aggTrades-2024-05.zip'), { market: 'coinm', symbol: 'BTCUSD_PERP' });
  assert.deepEqual(dumpPathInfo('C:\\x\\data\\spot\\daily\\aggTrades\\ETHUSDT\\ETHUSDT-aggTrades-2025-01-01.csv'), { market: 'spot', symbol: 'ETHUSDT' });
  assert.deepEqual(dumpPathInfo('./币安人生USDT-aggTrades-2025-10-01.zip'), { symbol: '币安人生USDT' });
  assert.deepEqual(dumpPathInfo('/tmp/trades.csv'), {});
});
