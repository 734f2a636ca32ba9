/**
 * The aggregator against real Kafka and QuestDB, as separate processes: 20 symbols over 30
 * minutes of trade time. A clean run must equal the expected bars; a SIGKILL-and-restart run
 * and a 3-replica run with a forced rebalance must equal the clean run, every column.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Buffer } from 'node:buffer';
import { seededRandom } from '@cvd/common';
import { ensureTopics, pipelineTopics, type Kafka } from '@cvd/kafka';
import { QuestDbSql } from '@cvd/questdb';
import { eventually, getTestStack, uniqueId, uniqueTable, uniqueTopic, type TestStackEndpoints } from '@cvd/test-kit';
import { AggregatorProcess, asTableRow, COMPARED, expectedBars, MINUTE, produceTrades, syntheticTrades, testKafka } from './testing.js';
import type { AggTrade } from '@cvd/core';

const GRACE_MS = 1000;
const START = Date.UTC(2024, 4, 1, 12, 0);
let stack: TestStackEndpoints;
let kafka: Kafka;
let sql: QuestDbSql;
const procs: AggregatorProcess[] = [];

before(async () => {
  stack = await getTestStack();
  kafka = testKafka(stack.brokers);
  sql = new QuestDbSql({ httpUrl: stack.questdbHttp });
});

after(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
});

interface Scenario {
  topics: { trades: string; symbols: string; deadLetter: string; state: string };
  table: string;
  group: string;
}

function scenario(tradesTopic: string): Scenario {
  return {
    topics: { trades: tradesTopic, symbols: uniqueTopic('t.symbols'), deadLetter: uniqueTopic('t.dlq'), state: uniqueTopic('t.state') },
    table: uniqueTable('bars'),
    group: uniqueId('agg'),
  };
}

function start(s: Scenario, instance: string): AggregatorProcess {
  const p = new AggregatorProcess({
    KAFKA_BROKERS: stack.brokers,
    QUESTDB_HTTP_URL: stack.questdbHttp,
    TOPIC_TRADES: s.topics.trades,
    TOPIC_SYMBOLS: s.topics.symbols,
    TOPIC_DEADLETTER: s.topics.deadLetter,
    TOPIC_AGGREGATOR_STATE: s.topics.state,
    TRADES_PARTITIONS: '6',
    AGGREGATOR_GROUP_ID: s.group,
    AGGREGATOR_BAR_TABLE: s.table,
    AGGREGATOR_GRACE: `${GRACE_MS}ms`,
    AGGREGATOR_IDLE_AFTER: '300ms',
    AGGREGATOR_FLUSH_INTERVAL: '200ms',
    AGGREGATOR_SNAPSHOT_INTERVAL: '700ms',
    AGGREGATOR_SESSION_TIMEOUT: '6s',
    AGGREGATOR_INSTANCE_ID: instance,
    OPS_PORT: '0',
    LOG_LEVEL: 'warn',
  });
  procs.push(p);
  return p;
}

async function tableRows(table: string): Promise<Record<string, unknown>[]> {
  return sql.rows(`SELECT ${COMPARED.join(', ')} FROM ${table} ORDER BY market, symbol, ts`);
}

async function rowCount(table: string): Promise<number> {
  try {
    return Number((await sql.exec(`SELECT count() FROM ${table}`)).dataset[0]?.[0] ?? 0);
  } catch {
    return 0; // table not created yet
  }
}

/** Waits until the table holds `expected` rows, all final, and stays so. */
async function settled(table: string, expected: number, procsToWatch: AggregatorProcess[]): Promise<Record<string, unknown>[]> {
  try {
    await eventually(async () => {
      const r = await sql.rows(`SELECT count() c, sum(CASE WHEN final THEN 1 ELSE 0 END) f FROM ${table}`).catch(() => []);
      return r[0]?.c === expected && r[0]?.f === expected;
    }, 120_000, 500);
  } catch (err) {
    for (const p of procsToWatch) console.error(p.log.slice(-4000));
    throw err;
  }
  return tableRows(table);
}

describe('aggregator service with real Kafka and QuestDB', () => {
  let trades: AggTrade[];
  let tradesTopic: string;
  let expected: Record<string, unknown>[];
  let clean: Record<string, unknown>[];
  const broken = [
    Buffer.from([0xc5, 0x01, 0x02]), // truncated AggTrade body
    Buffer.from('not avro at all'),
  ];

  before(async () => {
    trades = syntheticTrades({ seed: 42, symbols: 20, minutes: 30, startMs: START });
    expected = expectedBars(trades, GRACE_MS).map(asTableRow);
    tradesTopic = uniqueTopic('t.trades');
    await ensureTopics(kafka, pipelineTopics({ trades: tradesTopic, symbols: uniqueTopic('x'), deadLetter: uniqueTopic('x'), aggregatorState: uniqueTopic('x') }, 6));
    const half = Math.floor(trades.length / 2);
    await produceTrades(kafka, tradesTopic, trades.slice(0, half), broken.map((value, i) => ({ key: `usdm:SYM${i + 1}USDT`, value })));
    await produceTrades(kafka, tradesTopic, trades.slice(half));
  });

  test('clean run: the table equals the expected bars; broken records are dead-lettered', async () => {
    const s = scenario(tradesTopic);
    const p = start(s, 'clean');
    clean = await settled(s.table, expected.length, [p]);
    assert.ok(expected.length > 500, `a meaningful data set (${expected.length} bars, ${trades.length} trades)`);
    assert.deepEqual(clean, expected);

    // Continuity (invariant 4) on what was written.
    const bySymbol = new Map<string, Record<string, unknown>[]>();
    for (const r of clean) bySymbol.set(`${r.market}:${r.symbol}`, [...(bySymbol.get(`${r.market}:${r.symbol}`) ?? []), r]);
    for (const rows of bySymbol.values()) for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.cvd_open, rows[i - 1]!.cvd_close);

    const dead = await readAll(s.topics.deadLetter, 2);
    assert.deepEqual(dead.map((d) => d.reason).sort(), ['bad-magic', 'truncated']);
    await p.kill('SIGTERM');
    assert.equal(await p.exited, 0, 'clean SIGTERM shutdown');
  });

  test('SIGKILL at a random point and restart: identical to the clean run', async () => {
    // Its own trades topic: half the trades before the kill, the rest after it, so the kill
    // lands mid-stream whatever the machine's speed.
    const topic = uniqueTopic('t.trades-kill');
    await ensureTopics(kafka, pipelineTopics({ trades: topic, symbols: uniqueTopic('x'), deadLetter: uniqueTopic('x'), aggregatorState: uniqueTopic('x') }, 6));
    const half = Math.floor(trades.length / 2);
    await produceTrades(kafka, topic, trades.slice(0, half), broken.map((value, i) => ({ key: `usdm:SYM${i + 1}USDT`, value })));
    const s = scenario(topic);
    const seed = Date.now() % 100_000;
    const rnd = seededRandom(seed);
    const first = start(s, 'kill-1');
    await eventually(async () => (await rowCount(s.table)) > 0, 60_000, 50);
    const delay = Math.floor(rnd() * 1500);
    await new Promise((r) => setTimeout(r, delay));
    await first.kill('SIGKILL');
    console.log(`SIGKILL after first rows + ${delay} ms (seed ${seed}); ${await rowCount(s.table)} rows written before it`);
    await produceTrades(kafka, topic, trades.slice(half));
    const second = start(s, 'kill-2');
    const rows = await settled(s.table, expected.length, [second]);
    assert.deepEqual(rows, clean);
    await second.kill('SIGTERM');
  });

  test('3 replicas with a rebalance forced midway: identical to the clean run', async () => {
    const s = scenario(tradesTopic);
    const a = start(s, 'r1');
    const b = start(s, 'r2');
    const c = start(s, 'r3');
    await eventually(async () => (await rowCount(s.table)) > 0, 60_000, 50);
    // One replica leaves (its partitions move), a new one joins (they move again).
    await b.kill('SIGKILL');
    const d = start(s, 'r4');
    const rows = await settled(s.table, expected.length, [a, c, d]);
    assert.deepEqual(rows, clean);
    await Promise.all([a, c, d].map((p) => p.kill('SIGTERM')));
  });
});

async function readAll(topic: string, n: number): Promise<{ reason: string; offset: string }[]> {
  const consumer = kafka.consumer({ groupId: uniqueId('dlq-read') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: { reason: string; offset: string }[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      got.push({ reason: message.headers?.reason?.toString() ?? '', offset: message.headers?.['source-offset']?.toString() ?? '' });
    },
  });
  await eventually(async () => got.length >= n, 30_000);
  await consumer.disconnect();
  return got;
}
