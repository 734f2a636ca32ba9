import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAggTradesCsv, unzipFirstEntry } from './csv-source.js';
import { loadSource } from './load.js';
import { SimulatorError } from '../errors.js';
import { fixture } from '../test-client.js';

test('spot CSV without header, µs times, is_best_match', () => {
  const text = readFileSync(fixture('spot-BTCUSDT-aggTrades-us-noheader.csv', import.meta.url), 'utf8');
  const r = parseAggTradesCsv(text, { market: 'spot', symbol: 'BTCUSDT' });
  assert.equal(r.header, false);
  assert.equal(r.timeUnit, 'us');
  assert.equal(r.trades.length, 3);
  const t = r.trades[0];
  assert.ok(t);
  assert.equal(t.a, 3000000001);
  assert.equal(t.p, '94500.01000000');
  assert.equal(t.q, '0.00120000');
  assert.equal(t.Tus, 1735689600123456);
  assert.equal(t.T, 1735689600123);
  assert.equal(t.E, 1735689600123);
  assert.equal(t.m, true);
  assert.equal(t.M, true);
  assert.equal(r.trades[1]?.m, false);
  assert.equal(r.trades[1]?.l, 4000000004);
});

test('futures CSV with header, ms times, rows out of order are sorted by id', () => {
  const text = readFileSync(fixture('um-BTCUSDT-aggTrades-ms-header.csv', import.meta.url), 'utf8');
  const r = parseAggTradesCsv(text, { market: 'usdm', symbol: 'BTCUSDT', eventLagMs: 5 });
  assert.equal(r.header, true);
  assert.equal(r.timeUnit, 'ms');
  assert.deepEqual(
    r.trades.map((t) => t.a),
    [2000000001, 2000000002, 2000000003],
  );
  assert.equal(r.trades[0]?.T, 1704067200000);
  assert.equal(r.trades[0]?.Tus, 1704067200000000);
  assert.equal(r.trades[0]?.E, 1704067200005);
  assert.equal(r.trades[0]?.q, '0.010');
});

test('header mapped by name, CRLF, blank lines, duplicates dropped', () => {
  const text =
    'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\r\n' +
    '5,1.5,2,10,10,1704067200000,false\r\n\r\n5,1.5,2,10,10,1704067200000,false\r\n6,1.6,3,11,12,1704067200001,true\r\n';
  const r = parseAggTradesCsv(text, { market: 'usdm', symbol: 'X' });
  assert.equal(r.trades.length, 2);
  assert.equal(r.duplicates, 1);
});

test('mixed µs and ms rows are each converted', () => {
  const text = '1,1.0,1,1,1,1735689600000001,true\n2,1.0,1,2,2,1704067200000,false\n';
  const r = parseAggTradesCsv(text, { market: 'spot', symbol: 'X' });
  assert.equal(r.timeUnit, 'mixed');
  assert.equal(r.trades[0]?.T, 1735689600000);
  assert.equal(r.trades[1]?.T, 1704067200000);
});

test('a non-decimal quantity fails with bad-source and the line number', () => {
  assert.throws(
    () => parseAggTradesCsv('1,1.0,1e-3,1,1,1704067200000,true\n', { market: 'spot', symbol: 'X' }),
    (err: unknown) => err instanceof SimulatorError && err.code === 'bad-source' && err.message.includes('line 1'),
  );
});

test('zip archives are unpacked (first entry)', async () => {
  const zip = readFileSync(fixture('um-BTCUSDT-aggTrades-ms-header.zip', import.meta.url));
  const csv = readFileSync(fixture('um-BTCUSDT-aggTrades-ms-header.csv', import.meta.url), 'utf8');
  assert.equal(unzipFirstEntry(zip).toString('utf8'), csv);
  const src = await loadSource({
    kind: 'csv',
    market: 'usdm',
    symbol: 'BTCUSDT',
    path: fixture('um-BTCUSDT-aggTrades-ms-header.zip', import.meta.url).pathname,
  });
  assert.equal(src.symbols[0]?.tickSize, '0.1');
  assert.equal(src.symbols[0]?.stepSize, '0.001');
  assert.equal(src.symbols[0]?.contractType, 'PERPETUAL');
  const it = src.trades();
  assert.equal(it.next().value?.a, 2000000001);
});

test('deflated zip entries are inflated', async () => {
  const { deflateRawSync, crc32 } = (await import('node:zlib')) as typeof import('node:zlib') & { crc32?: (b: Buffer) => number };
  const body = Buffer.from('1,1.0,1,1,1,1704067200000,true\n'.repeat(50));
  const comp = deflateRawSync(body);
  const name = Buffer.from('x.csv');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(comp.length, 18);
  local.writeUInt32LE(body.length, 22);
  local.writeUInt16LE(name.length, 26);
  const cd = Buffer.alloc(46);
  cd.writeUInt32LE(0x02014b50, 0);
  cd.writeUInt16LE(8, 10);
  cd.writeUInt32LE(comp.length, 20);
  cd.writeUInt32LE(body.length, 24);
  cd.writeUInt16LE(name.length, 28);
  cd.writeUInt32LE(0, 42);
  const cdOffset = local.length + name.length + comp.length;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt32LE(cdOffset, 16);
  void crc32;
  const zip = Buffer.concat([local, name, comp, cd, name, eocd]);
  assert.deepEqual(unzipFirstEntry(zip), body);
});
