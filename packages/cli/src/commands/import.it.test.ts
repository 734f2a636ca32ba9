import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { createLogger } from '@cvd/common';
import { createKafka, ensureTopics, type Kafka } from '@cvd/kafka';
import { key } from '@cvd/schemas';
import { getTestStack, uniqueTopic } from '@cvd/test-kit';
import { importCommand } from './import.js';
import { captureIo, makeZip, readTopicTrades } from './data-testing.js';

let kafka: Kafka;
let brokers: string;

before(async () => {
  brokers = (await getTestStack()).brokers;
  kafka = createKafka({ brokers: [brokers], clientId: 'cli-import-test' }, createLogger({ service: 'test', level: 'error' }));
});

test('import: a spot zip (no header, µs, out of order, zero qty) and a futures csv (header, ms) land as AggTrade records', async () => {
  const topic = uniqueTopic('cli.import');
  await ensureTopics(kafka, [{ topic, partitions: 3 }]);
  const dir = mkdtempSync(join(tmpdir(), 'cvd-import-'));
  const spotDir = join(dir, 'data/spot/daily/aggTrades/TESTBUSDT');
  mkdirSync(spotDir, { recursive: true });
  const spotCsv = [
    '502,100.5,0.2,902,903,1735689600500000,False,True',
    '500,100.1,0.5,900,900,1735689600000001,True,True',
    '501,100.2,0,901,901,1735689600100000,False,True',
    '503,100.0,1.25,904,904,1735689661000000,True,True',
  ].join('\n');
  const zipPath = join(spotDir, 'TESTBUSDT-aggTrades-2025-01-01.zip');
  writeFileSync(zipPath, makeZip('TESTBUSDT-aggTrades-2025-01-01.csv', Buffer.from(spotCsv)));
  const csvPath = join(dir, 'futures.csv');
  const rows = ['agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker'];
  for (let i = 0; i < 12_000; i++) rows.push(`${10_000 + i},${(50 + (i % 7) / 10).toFixed(1)},0.00${(i % 9) + 1},${20_000 + i},${20_000 + i},${1714521600000 + i * 10},${i % 3 === 0}`);
  writeFileSync(csvPath, `${rows.join('\n')}\n`);

  const env = { KAFKA_BROKERS: brokers, TOPIC_TRADES: topic };
  const c = captureIo();
  assert.equal(await importCommand([zipPath], c.io, env), 0);
  assert.match(c.err.join('\n'), /spot:TESTBUSDT TESTBUSDT-aggTrades-2025-01-01\.zip: 4 rows \(no header, µs times, sorted by id, 1 zero-quantity rows dropped\)/);
  const d = captureIo();
  assert.equal(await importCommand([csvPath, '--market', 'usdm', '--symbol', 'TESTCUSDT'], d.io, env), 0);
  assert.match(d.out.at(-1) ?? '', /published to .*: 12000 trades from 1 file/);

  const got = await readTopicTrades(kafka, topic);
  const spot = got.filter((t) => t.market === 'spot');
  assert.deepEqual(spot.map((t) => [t.aggId, t.qty, t.tradeTimeMs, t.buyerMaker, t.recovered]), [
    [500, '0.5', 1735689600000, true, false],
    [502, '0.2', 1735689600500, false, false],
    [503, '1.25', 1735689661000, true, false],
  ]);
  const fut = got.filter((t) => t.market === 'usdm' && t.symbol === 'TESTCUSDT');
  assert.equal(fut.length, 12_000);
  assert.deepEqual(fut.map((t) => t.aggId), rows.slice(1).map((_, i) => 10_000 + i), 'one key = one partition, in id order');
  assert.equal(fut[3]?.tradeTimeMs, 1714521600030);
  assert.equal(fut[3]?.buyerMaker, true);
  assert.equal(key('usdm', 'TESTCUSDT'), 'usdm:TESTCUSDT');
});

test('import: usage errors name the file; --dry-run publishes nothing; a missing topic is a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cvd-import-'));
  const f = join(dir, 'trades.csv');
  writeFileSync(f, '1,1,1,1,1,1714521600000,false\n');
  await assert.rejects(importCommand([f], captureIo().io, { KAFKA_BROKERS: brokers }), /cannot tell the market of .*trades\.csv: pass --market/);
  await assert.rejects(importCommand([f, '--market', 'usdm'], captureIo().io, { KAFKA_BROKERS: brokers }), /cannot tell the symbol of .*: pass --symbol/);
  const dry = captureIo();
  assert.equal(await importCommand([f, '--market', 'usdm', '--symbol', 'X', '--dry-run'], dry.io, { KAFKA_BROKERS: brokers }), 0);
  assert.match(dry.out[0] ?? '', /dry run, nothing published\): 1 trades/);
  await assert.rejects(importCommand([f, '--market', 'usdm', '--symbol', 'X'], captureIo().io, { KAFKA_BROKERS: brokers, TOPIC_TRADES: uniqueTopic('absent') }), /topic absent\.\S+ does not exist/);
  writeFileSync(f, '1,1,1,1,1,1714521600000,false\n2,x,1,1,1,1714521600000,false\n');
  await assert.rejects(importCommand([f, '--market', 'usdm', '--symbol', 'X', '--dry-run'], captureIo().io, {}), /trades\.csv: line 2: bad price/);
});
