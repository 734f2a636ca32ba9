/**
 * CVD anchors from `cvd.symbols.v1` through the real aggregator process, Kafka and QuestDB: an
 * anchor shifts its symbol's CVD from the minute after its `updatedAtMs` on (earlier bars
 * unchanged), survives a restart even when its record is gone (the snapshot carries it), and
 * one published while the aggregator runs is followed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '@cvd/common';
import { applyBatch, createState, setAnchor, type BarRow } from '@cvd/engine';
import { BatchingProducer, ensureTopics, pipelineTopics, type Kafka } from '@cvd/kafka';
import { QuestDbSql } from '@cvd/questdb';
import type { AggTrade, Market } from '@cvd/core';
import { encodeSymbolConfig, key } from '@cvd/schemas';
import { eventually, getTestStack, uniqueId, uniqueTable, uniqueTopic, type TestStackEndpoints } from '@cvd/test-kit';
import { AggregatorProcess, asTableRow, COMPARED, MINUTE, produceTrades, syntheticTrades, testKafka } from './testing.js';

const GRACE_MS = 1000;
const START = Date.UTC(2024, 4, 2, 12, 0);
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

interface AnchorSpec {
  market: Market;
  symbol: string;
  cvd: string;
  /** Minute (from START) in which the anchor is set; it applies from the next minute on. */
  setInMinute: number;
}

/** The bars the pipeline must produce: the pure engine with the anchors, everything final. */
function expected(trades: readonly AggTrade[], anchors: readonly AnchorSpec[]): Record<string, unknown>[] {
  const state = createState({ graceMs: GRACE_MS, horizonMs: 60 * MINUTE });
  for (const a of anchors) setAnchor(state, `${a.market}:${a.symbol}`, a.cvd, START + (a.setInMinute + 1) * MINUTE);
  const latest = new Map<string, BarRow>();
  const max = Math.max(...trades.map((t) => t.tradeTimeMs));
  for (const r of [applyBatch(state, trades.map((t) => ({ ...t })), max), applyBatch(state, [], max + 10 * MINUTE)]) {
    for (const row of r.upserts) latest.set(`${row.ts}|${row.market}|${row.symbol}`, row);
  }
  return [...latest.values()]
    .sort((a, b) => a.market.localeCompare(b.market) || a.symbol.localeCompare(b.symbol) || a.ts - b.ts)
    .map(asTableRow);
}

async function publishSymbols(topic: string, records: { spec: AnchorSpec; tombstone?: boolean }[]): Promise<void> {
  const producer = new BatchingProducer(kafka, { logger: createLogger({ service: 'test', level: 'warn' }) });
  await producer.connect();
  producer.enqueue(
    topic,
    records.map(({ spec: a, tombstone }) => ({
      key: key(a.market, a.symbol),
      value: tombstone
        ? null
        : encodeSymbolConfig({ market: a.market, symbol: a.symbol, enabled: true, source: 'api', updatedAtMs: START + a.setInMinute * MINUTE + 30_000, anchorCvd: a.cvd }),
    })),
  );
  await producer.close();
}

async function tableRows(table: string): Promise<Record<string, unknown>[]> {
  return sql.rows(`SELECT ${COMPARED.join(', ')} FROM ${table} ORDER BY market, symbol, ts`).catch(() => []);
}

async function settledTo(table: string, want: Record<string, unknown>[], watch: AggregatorProcess): Promise<Record<string, unknown>[]> {
  let rows: Record<string, unknown>[] = [];
  try {
    await eventually(async () => {
      rows = await tableRows(table);
      return JSON.stringify(rows) === JSON.stringify(want);
    }, 120_000, 500);
  } catch (err) {
    console.error(watch.log.slice(-4000));
    assert.deepEqual(rows, want); // shows the difference
    throw err;
  }
  return rows;
}

/** The row of `symbol` at `minute` (from START), in the table's shape. */
const bar = (rows: Record<string, unknown>[], symbol: string, minute: number): Record<string, unknown> | undefined =>
  rows.find((r) => r.symbol === symbol && r.ts === asTableRow({ ts: START + minute * MINUTE } as BarRow).ts);

describe('CVD anchors from the symbols topic', () => {
  test('shift the CVD from the next bar on, survive a restart, and are followed while running', async () => {
    const topics = { trades: uniqueTopic('t.trades-anchor'), symbols: uniqueTopic('t.symbols-anchor'), deadLetter: uniqueTopic('t.dlq'), state: uniqueTopic('t.state') };
    await ensureTopics(kafka, pipelineTopics({ trades: topics.trades, symbols: topics.symbols, deadLetter: topics.deadLetter, aggregatorState: topics.state }, 1));
    const table = uniqueTable('bars_anchor');
    const env = {
      KAFKA_BROKERS: stack.brokers,
      QUESTDB_HTTP_URL: stack.questdbHttp,
      TOPIC_TRADES: topics.trades,
      TOPIC_SYMBOLS: topics.symbols,
      TOPIC_DEADLETTER: topics.deadLetter,
      TOPIC_AGGREGATOR_STATE: topics.state,
      TRADES_PARTITIONS: '1',
      AGGREGATOR_GROUP_ID: uniqueId('agg-anchor'),
      AGGREGATOR_BAR_TABLE: table,
      AGGREGATOR_GRACE: `${GRACE_MS}ms`,
      AGGREGATOR_REVISION_HORIZON: '60m',
      AGGREGATOR_IDLE_AFTER: '300ms',
      AGGREGATOR_FLUSH_INTERVAL: '200ms',
      AGGREGATOR_SNAPSHOT_INTERVAL: '700ms',
      AGGREGATOR_SESSION_TIMEOUT: '6s',
      OPS_PORT: '0',
      LOG_LEVEL: 'warn',
    };
    // SYM0 is spot, SYM1 and SYM2 usdm (see syntheticTrades); every symbol trades every minute.
    const trades = syntheticTrades({ seed: 7, symbols: 3, minutes: 15, startMs: START, perMinute: 4 });
    const firstHalf = trades.filter((t) => t.tradeTimeMs < START + 10 * MINUTE);
    const a: AnchorSpec = { market: 'spot', symbol: 'SYM0USDT', cvd: '1000', setInMinute: 4 };
    const b: AnchorSpec = { market: 'usdm', symbol: 'SYM1USDT', cvd: '-250.5', setInMinute: 11 };
    const c: AnchorSpec = { market: 'usdm', symbol: 'SYM2USDT', cvd: '42', setInMinute: 12 };

    await publishSymbols(topics.symbols, [{ spec: a }, { spec: b }]);
    await produceTrades(kafka, topics.trades, firstHalf);
    const first = new AggregatorProcess({ ...env, AGGREGATOR_INSTANCE_ID: 'anchor-1' });
    procs.push(first);
    const unanchored = expected(trades, []);
    // Anchor a: minute 5 opens at 1000, minute 4 and earlier are the plain CVD.
    await eventually(async () => bar(await tableRows(table), 'SYM0USDT', 9) !== undefined, 60_000, 200);
    const during = await tableRows(table);
    assert.equal(bar(during, 'SYM0USDT', 5)?.cvd_open, 1000);
    assert.deepEqual(bar(during, 'SYM0USDT', 4), bar(unanchored, 'SYM0USDT', 4));
    assert.deepEqual(bar(during, 'SYM1USDT', 7), bar(unanchored, 'SYM1USDT', 7), 'b is not due before minute 12');
    await first.kill('SIGTERM');
    assert.equal(await first.exited, 0);

    // b's record is removed: after the restart only the snapshot knows it. c comes while running.
    await publishSymbols(topics.symbols, [{ spec: b, tombstone: true }]);
    await produceTrades(kafka, topics.trades, trades.slice(firstHalf.length));
    const second = new AggregatorProcess({ ...env, AGGREGATOR_INSTANCE_ID: 'anchor-2' });
    procs.push(second);
    const withoutC = await settledTo(table, expected(trades, [a, b]), second);
    assert.equal(bar(withoutC, 'SYM1USDT', 12)?.cvd_open, -250.5, 'b survived the restart');
    assert.deepEqual(bar(withoutC, 'SYM1USDT', 11), bar(unanchored, 'SYM1USDT', 11));
    await publishSymbols(topics.symbols, [{ spec: c }]);
    const withC = await settledTo(table, expected(trades, [a, b, c]), second);
    assert.equal(bar(withC, 'SYM2USDT', 13)?.cvd_open, 42, 'c followed while running');
    assert.deepEqual(bar(withC, 'SYM2USDT', 12), bar(unanchored, 'SYM2USDT', 12));
    await second.kill('SIGTERM');
  });
});

