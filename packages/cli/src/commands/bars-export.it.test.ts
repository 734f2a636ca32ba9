import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLogger } from '@cvd/common';
import { BARS_RETENTION_MS, createKafka, ensureTopics, Partitioners, type Producer } from '@cvd/kafka';
import { BAR_COLUMNS, ensureViews, QuestDbSql } from '@cvd/questdb';
import { encodeBar } from '@cvd/schemas';
import { getTestStack, uniqueTable, uniqueTopic } from '@cvd/test-kit';
import { startWeb, type RunningWeb } from '@cvd/web';
import { barsCommand } from './bars.js';
import { exportCommand } from './export.js';
import { statusCommand } from './status.js';
import { tailCommand } from './tail.js';
import { barsOf, captureIo, makeTrades, MINUTE, waitFor, writeBarTable } from './data-testing.js';

const START = Date.parse('2024-05-01T12:00:00Z');
const table = uniqueTable('cli_bars');
let env: NodeJS.ProcessEnv;
const trades = [
  ...makeTrades({ market: 'usdm', symbol: 'TESTAUSDT', startMs: START, minutes: 30, seed: 1 }),
  ...makeTrades({ market: 'spot', symbol: 'TESTAUSDT', startMs: START, minutes: 3, seed: 2 }),
  ...makeTrades({ market: 'usdm', symbol: 'ONLYUSDT', startMs: START, minutes: 3, seed: 3 }),
];
const bars = barsOf(trades);
const usdm = bars.filter((b) => b.market === 'usdm' && b.symbol === 'TESTAUSDT');

let web: RunningWeb;
let producer: Producer;
let barsTopic: string;
/** `cvd tail` reads the web service (here over the test's table and a unique bars topic). */
let tailEnv: NodeJS.ProcessEnv;

before(async () => {
  const stack = await getTestStack();
  env = { QUESTDB_HTTP_URL: stack.questdbHttp, AGGREGATOR_BAR_TABLE: table };
  await writeBarTable(stack.questdbHttp, table, bars);
  const logger = createLogger({ service: 'cli-test', level: 'warn' });
  const brokers = stack.brokers.split(',');
  const kafka = createKafka({ brokers, clientId: 'cli-tail-test' }, logger);
  barsTopic = uniqueTopic('t.clibars');
  await ensureTopics(kafka, [{ topic: barsTopic, partitions: 2, configs: { 'cleanup.policy': 'delete', 'retention.ms': String(BARS_RETENTION_MS) } }]);
  producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  web = await startWeb({ questdb: { httpUrl: stack.questdbHttp }, table, port: 0, logger, barStream: { kafka: { brokers, clientId: 'cli-tail-web' }, topic: barsTopic } });
  await web.barStream!.ready;
  tailEnv = { WEB_URL: web.url };
});

after(async () => {
  await web?.close();
  await producer?.disconnect();
});

test('bars: the last N 1m bars, oldest first; market from the symbol when unambiguous', async () => {
  const c = captureIo();
  assert.equal(await barsCommand(['usdm:TESTAUSDT', '--last', '5', '--json'], c.io, env), 0);
  const rows = c.out.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(rows.length, 5);
  assert.deepEqual(rows.map((r) => Date.parse(String(r.ts))), usdm.slice(-5).map((b) => b.ts));
  assert.deepEqual(rows.map((r) => r.cvd_close), usdm.slice(-5).map((b) => Number(b.cvdClose)));

  const t = captureIo();
  assert.equal(await barsCommand(['ONLYUSDT', '--last', '2'], t.io, env), 0);
  assert.match(t.out[0] ?? '', /usdm:ONLYUSDT 1m bars/);
  assert.match(t.out.at(-1) ?? '', /^2 bars$/);

  await assert.rejects(barsCommand(['TESTAUSDT'], captureIo().io, env), /several markets \(spot, usdm\); pass --market/);
  const none = captureIo();
  assert.equal(await barsCommand(['usdm:NOPE'], none.io, env), 0);
  assert.match(none.out.at(-1) ?? '', /^0 bars$/);
});

test('bars --tf 5m: SAMPLE BY over the 1m rows without a view, the view once it exists — same values', async () => {
  const expected = new Map<number, { delta: number; cvdClose: number; cvdOpen: number; trades: number }>();
  for (const b of usdm) {
    const k = b.ts - (b.ts % (5 * MINUTE));
    const e = expected.get(k);
    if (!e) expected.set(k, { delta: Number(b.delta), cvdClose: Number(b.cvdClose), cvdOpen: Number(b.cvdOpen), trades: b.trades });
    else Object.assign(e, { delta: e.delta + Number(b.delta), cvdClose: Number(b.cvdClose), trades: e.trades + b.trades });
  }
  const check = (rows: Record<string, unknown>[]): void => {
    assert.equal(rows.length, expected.size);
    for (const r of rows) {
      const e = expected.get(Date.parse(String(r.ts)));
      assert.ok(e, `bucket ${String(r.ts)}`);
      assert.equal(r.cvd_close, e.cvdClose);
      assert.equal(r.cvd_open, e.cvdOpen);
      assert.equal(r.trades, e.trades);
      assert.ok(Math.abs(Number(r.delta) - e.delta) < 1e-9);
    }
  };
  const a = captureIo();
  assert.equal(await barsCommand(['TESTAUSDT', '--market', 'usdm', '--tf', '5m', '--from', '2024-05-01T12:00', '--to', '2024-05-01T13:00', '--json'], a.io, env), 0);
  check(a.out.map((l) => JSON.parse(l) as Record<string, unknown>));
  const sql = new QuestDbSql({ httpUrl: String(env.QUESTDB_HTTP_URL) });
  await ensureViews(sql, table);
  await waitFor(async () => (await sql.exec(`SELECT * FROM ${table}_5m WHERE symbol = 'TESTAUSDT' AND market = 'usdm'`)).count === expected.size);
  const b = captureIo();
  assert.equal(await barsCommand(['usdm:TESTAUSDT', '--tf', '5m', '--last', '100'], b.io, env), 0);
  assert.match(b.out[0] ?? '', new RegExp(`from ${table}_5m \\(UTC\\)`));
  const v = captureIo();
  assert.equal(await barsCommand(['usdm:TESTAUSDT', '--tf', '5m', '--last', '100', '--json'], v.io, env), 0);
  check(v.out.map((l) => JSON.parse(l) as Record<string, unknown>));
});

test('export: legacy CSV (exact cvd and delta), full CSV (every column), Parquet by QuestDB', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cvd-export-'));
  const legacy = join(dir, 'legacy.csv');
  const c = captureIo();
  assert.equal(await exportCommand(['usdm:TESTAUSDT', '--from', '2024-05-01T12:05', '--to', '2024-05-01T12:25Z', '--out', legacy], c.io, env), 0);
  const lines = readFileSync(legacy, 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'timestamp,symbol,cvd,buy_volume,sell_volume,delta');
  const inRange = usdm.filter((b) => b.ts >= START + 5 * MINUTE && b.ts < START + 25 * MINUTE);
  assert.equal(lines.length - 1, inRange.length);
  inRange.forEach((b, i) => {
    const [ts, sym, cvd, buy, sell, delta] = (lines[i + 1] ?? '').split(',');
    assert.equal(ts, new Date(b.ts).toISOString().replace('.000Z', 'Z'));
    assert.equal(sym, 'TESTAUSDT');
    assert.equal(cvd, b.cvdClose);
    assert.equal(delta, b.delta);
    assert.equal(Number(buy), Number(b.buyVolume));
    assert.equal(Number(sell), Number(b.sellVolume));
    assert.doesNotMatch(`${buy}${sell}`, /e/);
  });
  assert.match(c.err.at(-1) ?? '', /exported 20 bars of usdm:TESTAUSDT/);

  const full = join(dir, 'full.csv');
  assert.equal(await exportCommand(['TESTAUSDT', '--market', 'usdm', '--from', String(START), '--to', String(START + 30 * MINUTE), '--layout', 'full', '--out', full], captureIo().io, env), 0);
  const flines = readFileSync(full, 'utf8').trimEnd().split('\n');
  assert.deepEqual(flines[0]?.split(','), BAR_COLUMNS.map(([n]) => n));
  assert.equal(flines.length - 1, usdm.length);

  const empty = join(dir, 'empty.csv');
  assert.equal(await exportCommand(['usdm:TESTAUSDT', '--from', '2020-01-01', '--to', '2020-01-02', '--layout', 'full', '--out', empty], captureIo().io, env), 0);
  assert.deepEqual(readFileSync(empty, 'utf8').trimEnd().split('\n'), [BAR_COLUMNS.map(([n]) => n).join(',')]);

  const pq = join(dir, 'bars.parquet');
  assert.equal(await exportCommand(['usdm:TESTAUSDT', '--from', String(START), '--to', String(START + 30 * MINUTE), '--format', 'parquet', '--out', pq], captureIo().io, env), 0);
  const bytes = readFileSync(pq);
  assert.equal(bytes.subarray(0, 4).toString(), 'PAR1');
  assert.equal(bytes.subarray(-4).toString(), 'PAR1');
  assert.ok(bytes.includes(Buffer.from('timestamp')) && bytes.includes(Buffer.from('cvd')));
});

test('tail --once: the newest bar per symbol (given, or most active); status: Kafka/QuestDB up, services reported, last bars', async () => {
  const t = captureIo();
  assert.equal(await tailCommand(['usdm:TESTAUSDT', 'spot:NOPEUSDT', '--once'], t.io, tailEnv), 0);
  const text = t.out.join('\n');
  const last = usdm.at(-1);
  assert.match(text, new RegExp(`usdm:TESTAUSDT\\s+${Number(last?.close)}\\s+${Number(last?.cvdClose)}\\s+${Number(last?.delta)}\\s+yes\\s+12:29`));
  assert.match(text, /spot:NOPEUSDT\s+no bars/);
  const a = captureIo();
  assert.equal(await tailCommand(['--once', '--top', '2'], a.io, tailEnv), 0);
  assert.equal(a.out.join('\n').split('\n').filter((l) => /^(usdm|spot):/.test(l)).length, 2);

  const stack = await getTestStack();
  const s = captureIo();
  const code = await statusCommand(['--json', '--top', '3'], s.io, { ...env, KAFKA_BROKERS: stack.brokers, CONFIG_OPS_URL: 'http://127.0.0.1:1', INGEST_OPS_URL: 'http://127.0.0.1:1', AGGREGATOR_OPS_URL: 'http://127.0.0.1:1' });
  assert.equal(code, 0);
  const report = JSON.parse(s.out.join('\n')) as { components: { name: string; up: boolean }[]; lastBars: unknown[] };
  assert.deepEqual(report.components.map((c) => [c.name, c.up]), [['kafka', true], ['questdb', true], ['config', false], ['ingest', false], ['aggregator', false]]);
  assert.equal(report.lastBars.length, 3);
  const down = captureIo();
  assert.equal(await statusCommand([], down.io, { QUESTDB_HTTP_URL: 'http://127.0.0.1:1', KAFKA_BROKERS: '127.0.0.1:1', CONFIG_OPS_URL: 'http://127.0.0.1:1', INGEST_OPS_URL: 'http://127.0.0.1:1', AGGREGATOR_OPS_URL: 'http://127.0.0.1:1' }), 1);
  assert.match(down.out[0] ?? '', /kafka\s+DOWN/);
});

test('tail follows the web service\'s stream: a published bar is redrawn without polling QuestDB; a lost stream is retried a bounded number of times', async () => {
  const io = captureIo();
  const stop = new AbortController();
  const run = tailCommand(['usdm:TESTAUSDT', '--interval', '1'], io.io, tailEnv, stop.signal);
  const last = usdm.at(-1)!;
  await waitFor(async () => io.out.some((l) => /usdm:TESTAUSDT\s+\S+\s+\S+\s+\S+\s+yes\s+12:29/.test(l)), 15_000);
  // The next minute, forming, as the aggregator would publish it (never written to QuestDB).
  const next = { ...last, ts: last.ts + MINUTE, open: last.close, close: '4242.5', cvdOpen: last.cvdClose, cvdClose: '-17.125', delta: '3.5', final: false, receivedAtMs: 1, emittedAtMs: 1 };
  const published = async (): Promise<boolean> => io.out.some((l) => /usdm:TESTAUSDT\s+4242.5\s+-17.125\s+3.5\s+no\s+12:30/.test(l));
  await producer.send({ topic: barsTopic, messages: [{ key: 'usdm:TESTAUSDT', value: encodeBar(next) }] });
  await waitFor(published, 15_000);
  stop.abort();
  assert.equal(await run, 0, 'Ctrl-C (abort) ends it with 0');

  // Unreachable web service: one clear line, exit through CliFailure (status 1).
  await assert.rejects(tailCommand(['usdm:TESTAUSDT'], captureIo().io, { WEB_URL: 'http://127.0.0.1:1' }), /the web service at http:\/\/127\.0\.0\.1:1 is unreachable .*start it \(cvd run\) or set WEB_URL/);

  // The web service goes away mid-stream: bounded reconnects, then a clear failure.
  const other = await startWeb({ questdb: { httpUrl: (await getTestStack()).questdbHttp }, table, port: 0, logger: createLogger({ service: 'cli-test', level: 'silent' }) });
  const lost = captureIo();
  const running = tailCommand(['usdm:TESTAUSDT', '--reconnects', '2'], lost.io, { WEB_URL: other.url });
  await waitFor(async () => lost.out.some((l) => /usdm:TESTAUSDT/.test(l)), 15_000);
  await other.close();
  await assert.rejects(running, /lost the web service's stream .*gave up after 2 reconnect attempts/);
  assert.equal(lost.err.filter((l) => /reconnecting in \d+ ms \(attempt \d\/2\)/.test(l)).length, 2);
});
