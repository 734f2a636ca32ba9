/**
 * Issue 12, failure 1: a file replayed into a stack used before (the demo ran in 2026 time,
 * the file is from 2024) produced nothing, silently — every trade `beyond-horizon`. `cvd run
 * --sim --file` now refuses at start with one line naming the cause and `cvd stack reset`.
 * Here the check runs against real Kafka (unique topics): the "demo" trades on the topic, then
 * the start-up check of a replay of an older CSV file, read by the real simulator.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AggTrade } from '@cvd/core';
import { createLogger } from '@cvd/common';
import { BatchingProducer, createKafka, ensureTopics, type Kafka } from '@cvd/kafka';
import { encodeTrade, key } from '@cvd/schemas';
import { startSimulator, type Simulator } from '@cvd/simulator';
import { getTestStack, uniqueTopic } from '@cvd/test-kit';
import { CliFailure } from './data-args.js';
import { refuseStaleReplay } from './replay-check.js';
import { buildSimOptions } from './sim-options.js';

const logger = createLogger({ service: 'test', level: 'error' });
let brokers: string;
let kafka: Kafka;
let dir: string;
let sim: Simulator;
const FILE_START = Date.UTC(2024, 4, 1, 0, 0, 0, 500);

before(async () => {
  brokers = (await getTestStack()).brokers;
  kafka = createKafka({ brokers: [brokers], clientId: 'replay-check-test' }, logger);
  dir = mkdtempSync(join(tmpdir(), 'cvd-replay-check-'));
  const file = join(dir, 'BTCUSDT-aggTrades-2024-05-01.csv');
  const rows = Array.from({ length: 20 }, (_, i) => `${3_000_000_000 + i},60000.${i},0.010,${9_000_000_000 + i},${9_000_000_000 + i},${FILE_START + i * 3_000},${i % 2 === 0}`);
  writeFileSync(file, `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n${rows.join('\n')}\n`);
  sim = await startSimulator(buildSimOptions({ file: [file], market: 'usdm', symbol: 'BTCUSDT', fast: true }, Date.now()));
});

after(async () => {
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function publish(topic: string, startMs: number, n: number): Promise<void> {
  await ensureTopics(kafka, [{ topic, partitions: 3 }]);
  const trades: AggTrade[] = Array.from({ length: n }, (_, i) => ({
    market: i % 2 === 0 ? 'usdm' : 'spot', symbol: i % 3 === 0 ? 'BTCUSDT' : 'ETHUSDT', aggId: 1 + i, price: '100.5', qty: '1', firstId: 1 + i, lastId: 1 + i,
    tradeTimeMs: startMs + i * 1_000, eventTimeMs: startMs + i * 1_000, buyerMaker: false, recovered: false, receivedAtMs: startMs + i * 1_000,
  }));
  const producer = new BatchingProducer(kafka, { logger });
  await producer.connect();
  producer.enqueue(topic, trades.map((t) => ({ key: key(t.market, t.symbol), value: encodeTrade(t) })));
  await producer.close();
}

const check = (topic: string): Promise<void> => refuseStaleReplay({ brokers, topic, fileFirstMs: sim.firstTradeTimeMs(), logger, warn: (l) => assert.fail(`unexpected warning: ${l}`) });

test('the simulator reports the file\'s first trade time', () => {
  assert.equal(sim.firstTradeTimeMs(), FILE_START);
});

test('a used stack (demo trades in 2026 time) refuses a 2024 replay at start: one line naming the cause and `cvd stack reset`', async () => {
  const topic = uniqueTopic('replay.trades');
  await publish(topic, Date.UTC(2026, 11, 3, 12, 0), 30);
  await assert.rejects(check(topic), (err: unknown) => {
    assert.ok(err instanceof CliFailure, String(err));
    assert.equal(err.message.split('\n').length, 1, 'one line');
    assert.match(err.message, /^cvd run: the stack already holds newer trades than the replay \((usdm|spot):(BTC|ETH)USDT at 2026-12-03T12:00:2\d\.000Z in /);
    assert.match(err.message, /the file starts at 2024-05-01T00:00:00\.500Z\), so the aggregator would drop every replayed trade as too old: run `npx cvd stack reset`/);
    return true;
  });
});

test('a fresh stack (no trades topic yet) and a stack holding only older trades let the replay run', async () => {
  await check(uniqueTopic('replay.absent'));
  const older = uniqueTopic('replay.older');
  await publish(older, Date.UTC(2023, 0, 1), 10);
  await check(older);
});
