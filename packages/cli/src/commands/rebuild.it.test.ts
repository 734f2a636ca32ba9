import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createLogger } from '@cvd/common';
import type { BarRow } from '@cvd/engine';
import { BatchingProducer, createKafka, ensureTopics, type Kafka } from '@cvd/kafka';
import { QuestDbSql } from '@cvd/questdb';
import type { AggTrade } from '@cvd/core';
import { encodeTrade, key } from '@cvd/schemas';
import { getTestStack, uniqueTable, uniqueTopic } from '@cvd/test-kit';
import { barsOf, captureIo, makeTrades, MINUTE, waitFor, writeBarTable } from './data-testing.js';
import { rebuildCommand } from './rebuild.js';

const START = Date.parse('2024-05-01T12:00:00Z');
let kafka: Kafka;
let httpUrl: string;
let brokers: string;

before(async () => {
  const s = await getTestStack();
  httpUrl = s.questdbHttp;
  brokers = s.brokers;
  kafka = createKafka({ brokers: [brokers], clientId: 'cli-rebuild-test' }, createLogger({ service: 'test', level: 'error' }));
});

async function produce(topic: string, trades: readonly AggTrade[]): Promise<void> {
  const p = new BatchingProducer(kafka, { logger: createLogger({ service: 'test', level: 'error' }) });
  await p.connect();
  p.enqueue(topic, trades.map((t) => ({ key: key(t.market, t.symbol), value: encodeTrade(t) })));
  await p.close();
}

const COMPARED = [
  'open', 'high', 'low', 'close', 'volume', 'buy_volume', 'sell_volume', 'quote_volume', 'buy_quote_volume', 'sell_quote_volume', 'delta', 'quote_delta',
  'cvd_open', 'cvd_high', 'cvd_low', 'cvd_close', 'trades', 'agg_trades', 'first_agg_id', 'last_agg_id', 'missing_agg_ids', 'recovered', 'final', 'delta_exact', 'cvd_close_exact',
] as const;

function asRow(r: BarRow): Record<string, unknown> {
  return {
    ts: r.ts, market: r.market, symbol: r.symbol,
    open: Number(r.open), high: Number(r.high), low: Number(r.low), close: Number(r.close),
    volume: Number(r.volume), buy_volume: Number(r.buyVolume), sell_volume: Number(r.sellVolume),
    quote_volume: Number(r.quoteVolume), buy_quote_volume: Number(r.buyQuoteVolume), sell_quote_volume: Number(r.sellQuoteVolume),
    delta: Number(r.delta), quote_delta: Number(r.quoteDelta),
    cvd_open: Number(r.cvdOpen), cvd_high: Number(r.cvdHigh), cvd_low: Number(r.cvdLow), cvd_close: Number(r.cvdClose),
    trades: r.trades, agg_trades: r.aggTrades, first_agg_id: r.firstAggId, last_agg_id: r.lastAggId,
    missing_agg_ids: r.missingAggIds, recovered: r.recovered, final: r.final, delta_exact: r.delta, cvd_close_exact: r.cvdClose,
  };
}

async function tableRows(table: string): Promise<Record<string, unknown>[]> {
  const rows = await new QuestDbSql({ httpUrl }).rows(`SELECT * FROM ${table} ORDER BY market, symbol, ts`);
  return rows.map((r) => ({ ...Object.fromEntries(['market', 'symbol', ...COMPARED].map((c) => [c, r[c]])), ts: Date.parse(String(r.ts)) }));
}

function diff(actual: Record<string, unknown>[], expected: Record<string, unknown>[]): string[] {
  const out: string[] = [];
  const key = (r: Record<string, unknown>): string => `${String(r.market)}:${String(r.symbol)}@${new Date(Number(r.ts)).toISOString()}`;
  const a = new Map(actual.map((r) => [key(r), r]));
  for (const e of expected) {
    const g = a.get(key(e));
    if (!g) {
      out.push(`missing ${key(e)}`);
      continue;
    }
    a.delete(key(e));
    for (const c of COMPARED) if (g[c] !== e[c]) out.push(`${key(e)} ${c}: ${String(g[c])} != expected ${String(e[c])}`);
  }
  for (const k of a.keys()) out.push(`unexpected ${k}`);
  return out;
}

test('rebuild: a table with a gap + the missing trades published later = the bars of the full trade set', async () => {
  const topic = uniqueTopic('cli.rebuild');
  const table = uniqueTable('cli_rebuild');
  await ensureTopics(kafka, [{ topic, partitions: 3 }]);
  const a = makeTrades({ market: 'usdm', symbol: 'RBAUSDT', startMs: START, minutes: 20, seed: 11, perMinute: 8 });
  const b = makeTrades({ market: 'spot', symbol: 'RBBUSDT', startMs: START, minutes: 12, seed: 12 });
  const c = makeTrades({ market: 'usdm', symbol: 'RBCUSDT', startMs: START, minutes: 12, seed: 13 });
  const full = [...a, ...b, ...c];
  // The gap: all of minutes 8 and 9 of RBAUSDT, one trade of minute 6, and one of RBCUSDT's minute 7
  // (RBCUSDT is not rebuilt: its bars must stay as they were).
  const minuteOf = (t: AggTrade): number => Math.floor((t.tradeTimeMs - START) / MINUTE);
  const a6 = a.filter((t) => minuteOf(t) === 6);
  const missing = new Set<AggTrade>([...a.filter((t) => minuteOf(t) === 8 || minuteOf(t) === 9), a6[Math.floor(a6.length / 2)] as AggTrade]);
  const cGap = c.find((t) => minuteOf(t) === 7) as AggTrade;
  const withGap = full.filter((t) => !missing.has(t) && t !== cGap);
  const gapBars = barsOf(withGap);
  assert.ok(gapBars.some((r) => r.symbol === 'RBAUSDT' && r.missingAggIds > 0), 'the gap shows as missing ids');
  await writeBarTable(httpUrl, table, gapBars);
  await produce(topic, withGap);
  // Late: the missing trades, plus duplicates of some already there.
  await produce(topic, [...missing, ...a.slice(0, 5)]);

  const env = { KAFKA_BROKERS: brokers, TOPIC_TRADES: topic, QUESTDB_HTTP_URL: httpUrl, AGGREGATOR_BAR_TABLE: table };
  const io = captureIo();
  const code = await rebuildCommand(['--from', new Date(START + 5 * MINUTE).toISOString(), '--to', new Date(START + 10 * MINUTE).toISOString(), '--symbols', 'usdm:RBAUSDT'], io.io, env);
  assert.equal(code, 0, io.err.join('\n'));
  assert.match(io.err.join('\n'), /usdm:RBAUSDT: \d+ trades → 5 bars \(old: 3\)/);
  assert.match(io.err.join('\n'), /later bars rewritten/);

  // RBAUSDT now equals the full set's bars; the others are untouched (RBCUSDT keeps its gap).
  const expected = [...barsOf(full).filter((r) => r.symbol === 'RBAUSDT'), ...gapBars.filter((r) => r.symbol !== 'RBAUSDT')].map(asRow);
  let last: string[] = [];
  await waitFor(async () => {
    last = diff(await tableRows(table), expected);
    return last.length === 0;
  }, 30_000).catch(() => assert.fail(`table differs:\n${last.slice(0, 20).join('\n')}`));

  // A second run is a no-op for the values (idempotent).
  const again = captureIo();
  assert.equal(await rebuildCommand(['--from', String(START + 5 * MINUTE), '--to', String(START + 10 * MINUTE), '--symbols', 'usdm:RBAUSDT'], again.io, env), 0);
  assert.match(again.err.join('\n'), /shift 0\)/);
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(diff(await tableRows(table), expected), []);
});

test('rebuild: bars without trades on the topic are refused unless --force; argument errors', async () => {
  const topic = uniqueTopic('cli.rebuild');
  const table = uniqueTable('cli_rebuild');
  await ensureTopics(kafka, [{ topic, partitions: 1 }]);
  const a = makeTrades({ market: 'usdm', symbol: 'RBDUSDT', startMs: START, minutes: 4, seed: 21 });
  await writeBarTable(httpUrl, table, barsOf(a));
  await produce(topic, a.filter((t) => t.tradeTimeMs >= START + 2 * MINUTE));
  const env = { KAFKA_BROKERS: brokers, TOPIC_TRADES: topic, QUESTDB_HTTP_URL: httpUrl, AGGREGATOR_BAR_TABLE: table };
  const io = captureIo();
  assert.equal(await rebuildCommand(['--from', String(START), '--to', String(START + 4 * MINUTE), '--symbols', 'usdm:RBDUSDT'], io.io, env), 1);
  assert.match(io.err.join('\n'), /2 bars in the range .* have no trades on .*--force/);
  await assert.rejects(rebuildCommand(['--from', String(START + 1), '--to', String(START + MINUTE)], captureIo().io, env), /whole UTC minutes/);
  await assert.rejects(rebuildCommand(['--from', String(START), '--to', String(START + 2 * MINUTE)], captureIo().io, env, START + 90_000), /current minute/);
  await assert.rejects(rebuildCommand(['--to', String(START)], captureIo().io, env), /needs --from and --to/);
  await assert.rejects(rebuildCommand(['--from', String(START), '--to', String(START + MINUTE), '--symbols', 'BTCUSDT'], captureIo().io, env), /expected MARKET:SYMBOL/);
});
