/**
 * Trades refused as too old (issue 12): a stack used by a run in 2026 trade time, then a replay
 * of 2024 history into the same topic. Every old trade is `beyond-horizon`; the aggregator
 * counts them per symbol in /health and /metrics and warns once per symbol with the fix.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { ensureTopics, pipelineTopics } from '@cvd/kafka';
import { QuestDbSql } from '@cvd/questdb';
import { eventually, getTestStack, uniqueId, uniqueTable, uniqueTopic } from '@cvd/test-kit';
import { AggregatorProcess, produceTrades, syntheticTrades, testKafka } from './testing.js';

const procs: AggregatorProcess[] = [];
after(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
});

test('old trades after newer ones: counted per symbol in /health and /metrics, one warning per symbol naming `cvd stack reset`', async () => {
  const stack = await getTestStack();
  const kafka = testKafka(stack.brokers);
  const sql = new QuestDbSql({ httpUrl: stack.questdbHttp });
  const topics = { trades: uniqueTopic('old.trades'), symbols: uniqueTopic('old.symbols'), deadLetter: uniqueTopic('old.dlq'), aggregatorState: uniqueTopic('old.state') };
  await ensureTopics(kafka, pipelineTopics(topics, 1));
  const table = uniqueTable('old_bars');
  const opsPort = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
  const p = new AggregatorProcess({
    KAFKA_BROKERS: stack.brokers,
    QUESTDB_HTTP_URL: stack.questdbHttp,
    TOPIC_TRADES: topics.trades,
    TOPIC_SYMBOLS: topics.symbols,
    TOPIC_DEADLETTER: topics.deadLetter,
    TOPIC_AGGREGATOR_STATE: topics.aggregatorState,
    TRADES_PARTITIONS: '1',
    AGGREGATOR_GROUP_ID: uniqueId('agg-old'),
    AGGREGATOR_BAR_TABLE: table,
    AGGREGATOR_FLUSH_INTERVAL: '200ms',
    OPS_PORT: String(opsPort),
    LOG_LEVEL: 'warn',
  });
  procs.push(p);
  // The "demo": 2026 trade time.
  const demo = syntheticTrades({ seed: 7, symbols: 2, minutes: 2, startMs: Date.UTC(2026, 11, 1, 12, 0) });
  await produceTrades(kafka, topics.trades, demo);
  await eventually(async () => Number((await sql.exec(`SELECT count() FROM ${table}`).catch(() => ({ dataset: [[0]] }))).dataset[0]?.[0] ?? 0) > 0, 60_000, 300);
  // The replay: 2024 history for the same two symbols.
  const old = syntheticTrades({ seed: 8, symbols: 2, minutes: 2, startMs: Date.UTC(2024, 4, 1, 12, 0) });
  await produceTrades(kafka, topics.trades, old);
  const want: Record<string, number> = {};
  for (const t of old) want[`${t.market}:${t.symbol}`] = (want[`${t.market}:${t.symbol}`] ?? 0) + 1;

  const ops = `http://127.0.0.1:${opsPort}`;
  const counted = async (): Promise<Record<string, number>> => {
    const text = await fetch(`${ops}/metrics`).then((r) => r.text()).catch(() => '');
    const got: Record<string, number> = {};
    for (const m of text.matchAll(/^cvd_aggregator_too_old_trades_total\{([^}]*)\} (\d+)/gm)) {
      const labels = Object.fromEntries([...(m[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      assert.equal(labels.reason, 'beyond-horizon');
      got[`${labels.market}:${labels.symbol}`] = (got[`${labels.market}:${labels.symbol}`] ?? 0) + Number(m[2]);
    }
    return got;
  };
  try {
    await eventually(async () => JSON.stringify(await counted()) === JSON.stringify(want), 60_000, 300);
  } catch (err) {
    console.error(p.log.slice(-4000), await counted());
    throw err;
  }
  const health = (await (await fetch(`${ops}/health`)).json()) as { tooOldTrades?: Record<string, Record<string, number>> };
  assert.deepEqual(health.tooOldTrades, Object.fromEntries(Object.entries(want).map(([k, n]) => [k, { 'beyond-horizon': n }])));
  const warnings = p.log.split('\n').filter((l) => l.includes('Replaying history into a used stack? Run `cvd stack reset` first'));
  assert.equal(warnings.length, Object.keys(want).length, `one warning per symbol:\n${warnings.join('\n')}`);
  for (const w of warnings) assert.match(w, /trades older than the aggregator's watermark are dropped .*2024-05-01T12:0.*partition watermark 2026-12-01T12:01/);
});
