/**
 * The bar stream through the real aggregator process, Kafka and QuestDB: while trades are
 * fed in bursts, `cvd.bars.v1` carries each symbol's forming bar with exact values (every
 * record is the bar after some prefix of the symbol's trades, the last one the whole minute,
 * equal to the row QuestDB gets at the forming cadence), at most one forming publish per
 * symbol per push interval (checked on the records' own `emittedAtMs`, not on speed), and
 * the final bar with `final=true`, equal to the QuestDB row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applyBatch, createState, type BarRow } from '@cvd/engine';
import { ensureTopics, pipelineTopics, type Kafka } from '@cvd/kafka';
import { QuestDbSql } from '@cvd/questdb';
import { decodeBar, type BarRecord } from '@cvd/schemas';
import type { AggTrade } from '@cvd/core';
import { eventually, getTestStack, uniqueId, uniqueTable, uniqueTopic, type TestStackEndpoints } from '@cvd/test-kit';
import { AggregatorProcess, asTableRow, COMPARED, MINUTE, produceTrades, testKafka } from './testing.js';

const GRACE_MS = 1000;
const PUSH_INTERVAL_MS = 250;
const START = Date.UTC(2024, 4, 3, 12, 0);
const SYMBOLS = ['AAAUSDT', 'BBBUSDT', 'CCCUSDT'];
const PER_SYMBOL = 600;
const CHUNKS = 12;
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

/** `n` trades of `symbol` in the first 2 s of minute `START + minute`, receipt times distinct and increasing. */
function tradesOf(symbol: string, s: number, minute: number, n: number, firstAggId: number): AggTrade[] {
  const out: AggTrade[] = [];
  for (let i = 0; i < n; i++) {
    const t = START + minute * MINUTE + Math.floor((i * 2000) / n);
    out.push({
      market: 'usdm',
      symbol,
      aggId: firstAggId + i,
      price: (100 + s * 10 + ((i * 37) % 101) / 100).toFixed(2),
      qty: (0.001 + ((i * 13) % 17) / 1000).toFixed(3),
      firstId: (firstAggId + i) * 2,
      lastId: (firstAggId + i) * 2 + (i % 3),
      tradeTimeMs: t,
      eventTimeMs: t,
      buyerMaker: i % 3 === 0,
      recovered: false,
      receivedAtMs: 1_700_000_000_000 + minute * 1_000_000 + s * 10_000 + i,
    });
  }
  return out;
}

/** Each symbol's bar (minute `ts`) after each prefix of its trades, by `aggTrades`; and the bars at the end. */
function engineBars(trades: readonly AggTrade[], watermarkMs: number): { byCount: Map<string, BarRow>; last: Map<string, BarRow> } {
  const state = createState({ graceMs: GRACE_MS, horizonMs: 60 * MINUTE });
  const byCount = new Map<string, BarRow>();
  const last = new Map<string, BarRow>();
  for (const t of trades) {
    for (const row of applyBatch(state, [{ ...t }], t.tradeTimeMs).upserts) {
      byCount.set(`${row.symbol}|${row.ts}|${row.aggTrades}|${row.final}`, row);
      last.set(`${row.symbol}|${row.ts}`, row);
    }
  }
  for (const row of applyBatch(state, [], watermarkMs).upserts) last.set(`${row.symbol}|${row.ts}`, row);
  return { byCount, last };
}

function withoutStamps(r: BarRecord): BarRow {
  const { receivedAtMs: _r, emittedAtMs: _e, ...row } = r;
  return row;
}

describe('bar stream (cvd.bars.v1) with real Kafka and QuestDB', () => {
  const topics = { trades: uniqueTopic('t.trades'), symbols: uniqueTopic('t.symbols'), deadLetter: uniqueTopic('t.dlq'), aggregatorState: uniqueTopic('t.state'), bars: uniqueTopic('t.bars') };
  const table = uniqueTable('bars');
  const records: BarRecord[] = [];
  let proc: AggregatorProcess;
  let stopConsumer: () => Promise<void>;

  before(async () => {
    await ensureTopics(kafka, pipelineTopics(topics, 3));
    const consumer = kafka.consumer({ groupId: uniqueId('bars-read') });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.bars, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const d = decodeBar(message.value ?? Buffer.alloc(0));
        assert.ok(d.ok, `a bar record decodes: ${d.ok ? '' : d.error.message}`);
        assert.equal(message.key?.toString(), `${d.value.market}:${d.value.symbol}`, 'keyed market:SYMBOL');
        records.push(d.value);
      },
    });
    stopConsumer = () => consumer.disconnect();
    proc = new AggregatorProcess({
      KAFKA_BROKERS: stack.brokers,
      QUESTDB_HTTP_URL: stack.questdbHttp,
      TOPIC_TRADES: topics.trades,
      TOPIC_SYMBOLS: topics.symbols,
      TOPIC_DEADLETTER: topics.deadLetter,
      TOPIC_AGGREGATOR_STATE: topics.aggregatorState,
      TOPIC_BARS: topics.bars,
      TRADES_PARTITIONS: '3',
      AGGREGATOR_GROUP_ID: uniqueId('agg'),
      AGGREGATOR_BAR_TABLE: table,
      AGGREGATOR_GRACE: `${GRACE_MS}ms`,
      AGGREGATOR_IDLE_AFTER: '300ms',
      AGGREGATOR_FLUSH_INTERVAL: '200ms',
      AGGREGATOR_FORMING_WRITE_INTERVAL: '1s',
      // Snapshots (which also write the forming bars) rarely: the forming cadence is what writes them.
      AGGREGATOR_SNAPSHOT_INTERVAL: '1h',
      AGGREGATOR_BAR_PUSH_INTERVAL: `${PUSH_INTERVAL_MS}ms`,
      AGGREGATOR_SESSION_TIMEOUT: '6s',
      AGGREGATOR_INSTANCE_ID: 'bar-stream',
      OPS_PORT: '0',
      LOG_LEVEL: 'warn',
    });
    procs.push(proc);
  });

  after(async () => {
    await stopConsumer?.();
  });

  const minute0 = SYMBOLS.flatMap((sym, s) => tradesOf(sym, s, 0, PER_SYMBOL, 1000 + s * 100_000));
  // Interleaved by trade time like a live stream.
  minute0.sort((a, b) => a.tradeTimeMs - b.tradeTimeMs || a.symbol.localeCompare(b.symbol));
  const minute1 = SYMBOLS.flatMap((sym, s) => tradesOf(sym, s, 1, 1, 1000 + s * 100_000 + PER_SYMBOL).map((t) => ({ ...t, tradeTimeMs: t.tradeTimeMs + 30_000, eventTimeMs: t.eventTimeMs + 30_000 })));

  async function tableRow(symbol: string, ts: number): Promise<Record<string, unknown> | undefined> {
    const rows = await sql.rows(`SELECT ${COMPARED.join(', ')} FROM ${table} WHERE symbol = '${symbol}' AND ts = ${ts * 1000}`).catch(() => []);
    return rows[0];
  }

  test('forming bars: exact values, the latest equal to the QuestDB row; at most one publish per symbol per interval', async () => {
    const latest = (sym: string): BarRecord | undefined => records.filter((r) => r.symbol === sym && r.ts === START).at(-1);
    // The first trade of each symbol, until the running aggregator published it: the rest
    // then arrives while each symbol's interval is running, so the throttle has to hold it.
    const first = minute0.slice(0, SYMBOLS.length);
    assert.deepEqual(first.map((t) => t.symbol).sort(), SYMBOLS);
    await produceTrades(kafka, topics.trades, first);
    try {
      await eventually(async () => SYMBOLS.every((sym) => latest(sym)?.aggTrades === 1), 90_000, 50);
      const rest = minute0.slice(SYMBOLS.length);
      const chunk = Math.ceil(rest.length / CHUNKS);
      for (let i = 0; i < rest.length; i += chunk) await produceTrades(kafka, topics.trades, rest.slice(i, i + chunk));
      await eventually(async () => SYMBOLS.every((sym) => latest(sym)?.aggTrades === PER_SYMBOL), 90_000, 100);
    } catch (err) {
      console.error(proc.log.slice(-4000));
      throw err;
    }
    const engine = engineBars(minute0, minute0.at(-1)!.tradeTimeMs);
    for (const sym of SYMBOLS) {
      const mine = records.filter((r) => r.symbol === sym && r.ts === START);
      assert.ok(mine.length >= 2, `${sym}: the first trade's publish and at least one later one`);
      assert.ok(mine.every((r) => !r.final), `${sym}: minute 0 is still forming`);
      // Every record is the bar after some prefix of the symbol's trades, exactly.
      for (const r of mine) assert.deepEqual(withoutStamps(r), engine.byCount.get(`${sym}|${START}|${r.aggTrades}|false`), `${sym}: record with ${r.aggTrades} aggTrades`);
      // A bar changed several times between publishes is published once, with its latest values.
      for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.aggTrades > mine[i - 1]!.aggTrades, `${sym}: each publish carries new trades`);
      // Throttle: consecutive publishes of the symbol's forming bar at least the interval apart,
      // so their count is bounded by the span they cover.
      for (let i = 1; i < mine.length; i++) {
        assert.ok(mine[i]!.emittedAtMs - mine[i - 1]!.emittedAtMs >= PUSH_INTERVAL_MS, `${sym}: publishes ${mine[i - 1]!.emittedAtMs} → ${mine[i]!.emittedAtMs} closer than ${PUSH_INTERVAL_MS} ms`);
      }
      const span = mine.at(-1)!.emittedAtMs - mine[0]!.emittedAtMs;
      console.log(`${sym}: ${mine.length} forming publishes over ${span} ms for ${PER_SYMBOL} trades`);
      assert.ok(mine.length <= 1 + Math.floor(span / PUSH_INTERVAL_MS), `${sym}: ${mine.length} publishes over ${span} ms`);
      assert.ok(mine.length < PER_SYMBOL, `${sym}: ${mine.length} publishes for ${PER_SYMBOL} trades`);
      const last = mine.at(-1)!;
      // receivedAtMs: the max ingest receipt time of the trades applied to the bar.
      assert.equal(last.receivedAtMs, Math.max(...minute0.filter((t) => t.symbol === sym).map((t) => t.receivedAtMs)));
    }
    // QuestDB gets the forming bar at its cadence, equal to the latest stream record.
    for (const sym of SYMBOLS) {
      await eventually(async () => (await tableRow(sym, START))?.agg_trades === PER_SYMBOL, 60_000, 200);
      assert.deepEqual(await tableRow(sym, START), asTableRow(withoutStamps(latest(sym)!)));
      assert.deepEqual(withoutStamps(latest(sym)!), engine.last.get(`${sym}|${START}`));
    }
  });

  test('the final bar is published at once with final=true and equals the QuestDB row', async () => {
    await produceTrades(kafka, topics.trades, minute1);
    const all = [...minute0, ...minute1];
    const engine = engineBars(all, minute1.at(-1)!.tradeTimeMs);
    const final = (sym: string): BarRecord | undefined => records.find((r) => r.symbol === sym && r.ts === START && r.final);
    await eventually(async () => SYMBOLS.every((sym) => final(sym) !== undefined), 60_000, 100);
    for (const sym of SYMBOLS) {
      const f = final(sym)!;
      const expected = engine.last.get(`${sym}|${START}`)!;
      assert.equal(expected.final, true);
      assert.deepEqual(withoutStamps(f), expected);
      assert.equal(f.receivedAtMs, Math.max(...minute0.filter((t) => t.symbol === sym).map((t) => t.receivedAtMs)));
      // One final record per bar (nothing revised it), after every forming record of it.
      const mine = records.filter((r) => r.symbol === sym && r.ts === START);
      assert.equal(mine.filter((r) => r.final).length, 1);
      assert.equal(mine.at(-1), f);
      await eventually(async () => (await tableRow(sym, START))?.final === true, 60_000, 200);
      assert.deepEqual(await tableRow(sym, START), asTableRow(withoutStamps(f)));
      // The next minute's forming bar is on the stream too.
      await eventually(async () => records.some((r) => r.symbol === sym && r.ts === START + MINUTE && !r.final && r.aggTrades === 1), 30_000, 100);
      assert.deepEqual(withoutStamps(records.filter((r) => r.symbol === sym && r.ts === START + MINUTE).at(-1)!), engine.last.get(`${sym}|${START + MINUTE}`));
    }
    await proc.kill('SIGTERM');
    assert.equal(await proc.exited, 0, 'clean SIGTERM shutdown');
  });
});
