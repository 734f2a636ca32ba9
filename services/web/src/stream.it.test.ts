/**
 * `GET /api/stream` on real Kafka (and QuestDB for the API side): Bar v1 records published to
 * a unique bars topic reach SSE clients with exact values in the `/api/bars` row shape,
 * filtered per client; versions of a bar in one consumed batch are coalesced; an undecodable
 * record is counted and skipped; a rebalance of the web's private group sends `event: resync`;
 * a client that stops reading is cut off once too many bars wait for it, others go on;
 * headers, 400/503 and a clean end on close.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '@cvd/common';
import { createKafka, Partitioners, type Consumer, type Kafka, type Producer } from '@cvd/kafka';
import { getTestStack, type TestStackEndpoints } from '@cvd/test-kit';
import { createBarsTopic, createBarTable, MINUTE, publishBars, SseTestClient, walkBars, writeBars, type BarRow } from './testing.js';
import { startWeb, type RunningWeb } from './web.js';

const logger = createLogger({ service: 'web-test', level: 'warn' });
let stack: TestStackEndpoints;
let kafka: Kafka;
let producer: Producer;
let topic: string;
let table: string;
let web: RunningWeb;
const clients: SseTestClient[] = [];

const START = Date.UTC(2024, 4, 2, 10, 0);

function client(path: string): SseTestClient {
  const c = new SseTestClient(`${web.url}${path}`);
  clients.push(c);
  return c;
}

async function metric(name: string, of: RunningWeb = web, labels = ''): Promise<number> {
  const text = await (await fetch(`${of.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && /^[a-z_]+(\{[^}]*\})? /.test(line) && line.includes(labels)) sum += Number(line.split(' ').at(-1));
  return sum;
}

/** The `/api/bars` row the page would merge: what a pushed bar must equal (plus market, symbol, last_agg_id). */
function expectedPush(b: BarRow): Record<string, unknown> {
  return {
    market: b.market, symbol: b.symbol, ts: new Date(b.ts).toISOString(), time: b.ts / 1000,
    open: Number(b.open), high: Number(b.high), low: Number(b.low), close: Number(b.close),
    volume: Number(b.volume), buy_volume: Number(b.buyVolume), sell_volume: Number(b.sellVolume), delta: Number(b.delta),
    cvd_open: Number(b.cvdOpen), cvd_high: Number(b.cvdHigh), cvd_low: Number(b.cvdLow), cvd_close: Number(b.cvdClose),
    cvd_close_exact: b.cvdClose, trades: b.trades, final: b.final, last_agg_id: b.lastAggId,
  };
}

async function eventuallyTrue(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  stack = await getTestStack();
  kafka = createKafka({ brokers: stack.brokers.split(','), clientId: 'web-stream-test' }, logger);
  producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  topic = await createBarsTopic(kafka, 3);
  ({ table } = await createBarTable(stack.questdbHttp, 'webstream'));
  web = await startWeb({ questdb: { httpUrl: stack.questdbHttp }, table, port: 0, logger, barStream: { kafka: { brokers: stack.brokers.split(','), clientId: 'web-under-test' }, topic } });
  await web.barStream!.ready;
});

after(async () => {
  for (const c of clients) c.close();
  await web?.close();
  await producer?.disconnect();
});

describe('/api/stream on real Kafka', () => {
  test('published bars reach every matching client with exact values, in the /api/bars row shape', async () => {
    const all = client('/api/stream');
    const btc = client('/api/stream?market=usdm&symbol=BTCUSDT');
    const spot = client('/api/stream?symbols=spot:ETHUSDT');
    const res = await all.response;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.match(res.headers.get('cache-control') ?? '', /no-cache/);
    assert.equal(res.headers.get('x-accel-buffering'), 'no');
    await Promise.all([all, btc, spot].map((c) => c.waitFor('the preamble', () => c.events.some((e) => e.event === ':' && e.data === 'connected'))));

    const b = walkBars({ market: 'usdm', symbol: 'BTCUSDT', startMs: START, minutes: 3, seed: 21, price: 64_000, formingLast: true });
    const e = walkBars({ market: 'spot', symbol: 'ETHUSDT', startMs: START, minutes: 2, seed: 22, price: 3_000 });
    // Separate sends: each bar its own batch, so nothing is coalesced here.
    for (const row of [b[0]!, e[0]!, b[1]!, e[1]!, b[2]!]) await publishBars(producer, topic, [row]);
    await all.waitFor('5 bars', () => all.bars().length >= 5);
    await btc.waitFor('3 bars', () => btc.bars().length >= 3);
    await spot.waitFor('2 bars', () => spot.bars().length >= 2);
    const byKey = (xs: Record<string, unknown>[]) => [...xs].sort((x, y) => `${String(x.market)}${String(x.time)}`.localeCompare(`${String(y.market)}${String(y.time)}`));
    assert.deepEqual(byKey(all.bars()), byKey([...b, ...e].map(expectedPush)));
    assert.deepEqual(btc.bars(), b.map(expectedPush), 'one symbol, in order');
    assert.deepEqual(spot.bars(), e.map(expectedPush));
    assert.equal(btc.bars().at(-1)!.final, false);

    // The same bars in QuestDB come back from /api/bars with exactly these fields and values.
    await writeBars(stack.questdbHttp, table, b);
    const api = (await (await fetch(`${web.url}/api/bars?market=usdm&symbol=BTCUSDT&tf=1m`)).json()) as { bars: Record<string, unknown>[] };
    const strip = ({ market: _m, symbol: _s, last_agg_id: _l, ...rest }: Record<string, unknown>) => rest;
    assert.deepEqual(api.bars, btc.bars().map(strip));
  });

  test('coalescing: versions of one bar in one consumed batch reach a client once, with the newest values', async () => {
    const c = client('/api/stream?market=usdm&symbol=COALUSDT');
    await c.waitFor('the preamble', () => c.events.length > 0);
    const [base] = walkBars({ market: 'usdm', symbol: 'COALUSDT', startMs: START, minutes: 1, seed: 23, price: 10, formingLast: true });
    const versions: BarRow[] = Array.from({ length: 200 }, (_, i) => ({ ...base!, close: (10 + i / 100).toFixed(2), cvdClose: `${i}.125`, trades: i + 1, lastAggId: base!.firstAggId + i }));
    const records0 = await metric('cvd_web_bar_records_total');
    // One send to one key: one record batch on one partition, delivered in one fetch.
    await publishBars(producer, topic, versions);
    await c.waitFor('the newest version', () => c.bars().some((x) => x.cvd_close_exact === '199.125'));
    assert.equal(await metric('cvd_web_bar_records_total') - records0, 200, 'every record consumed');
    assert.deepEqual(c.bars(), [expectedPush(versions.at(-1)!)], 'one event: the newest version');
  });

  test('an undecodable record is counted and skipped; the stream goes on', async () => {
    const c = client('/api/stream?market=usdm&symbol=AFTERUSDT');
    await c.waitFor('the preamble', () => c.events.length > 0);
    const failures0 = await metric('cvd_web_bar_decode_failures_total');
    await producer.send({ topic, messages: [{ key: 'usdm:AFTERUSDT', value: Buffer.from('not avro') }, { key: 'usdm:AFTERUSDT', value: Buffer.from([0, 0, 0, 0, 99, 1, 2]) }] });
    const [row] = walkBars({ market: 'usdm', symbol: 'AFTERUSDT', startMs: START, minutes: 1, seed: 24 });
    await publishBars(producer, topic, [row!]);
    await c.waitFor('the valid bar after the bad records', () => c.bars().length === 1);
    assert.deepEqual(c.bars(), [expectedPush(row!)]);
    assert.equal(await metric('cvd_web_bar_decode_failures_total') - failures0, 2);
    assert.ok(web.barStream!.status().healthy);
  });

  test('a rebalance of the private group (a member joins, then leaves) sends event: resync; bars flow again afterwards', async () => {
    const c = client('/api/stream?market=usdm&symbol=RESYNCUSDT');
    await c.waitFor('the preamble', () => c.events.length > 0);
    const resyncs = (): number => c.events.filter((e) => e.event === 'resync').length;
    // Another member in the web's own group forces the web's consumer to rejoin.
    const intruder: Consumer = kafka.consumer({ groupId: web.barStream!.groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    await intruder.connect();
    await intruder.subscribe({ topic, fromBeginning: false });
    await intruder.run({ autoCommit: false, eachMessage: async () => undefined });
    await c.waitFor('a resync after the member joined', () => resyncs() >= 1, 60_000);
    const afterJoin = resyncs();
    await intruder.disconnect();
    await c.waitFor('a resync after the member left', () => resyncs() > afterJoin, 60_000);
    await web.barStream!.ready;
    assert.ok(await metric('cvd_web_stream_resyncs_total') >= 2);
    const [row] = walkBars({ market: 'usdm', symbol: 'RESYNCUSDT', startMs: START + 5 * MINUTE, minutes: 1, seed: 25 });
    // The web's consumer owns every partition again once it is positioned.
    await c.waitFor('positioned again', () => web.barStream!.status().healthy, 30_000);
    await publishBars(producer, topic, [row!]);
    await c.waitFor('the bar after the resync', () => c.bars().length === 1, 30_000);
    assert.deepEqual(c.bars(), [expectedPush(row!)]);
    const lastResync = c.events.map((e) => e.event).lastIndexOf('resync');
    assert.ok(lastResync < c.events.findIndex((e) => e.event === 'bar'), 'the resync comes before the new bar');
  });

  test('a client that stops reading is cut off once more than maxPending bars wait for it; a reading client gets every bar of batches larger than that', async () => {
    const slowTopic = await createBarsTopic(kafka, 1);
    const small = await startWeb({ questdb: { httpUrl: stack.questdbHttp }, table, port: 0, logger, barStream: { kafka: { brokers: stack.brokers.split(','), clientId: 'web-slow-test' }, topic: slowTopic }, stream: { maxPending: 50 } });
    await small.barStream!.ready;
    const socket = connect({ host: '127.0.0.1', port: small.port });
    try {
      // A raw client that sends its request and then never reads.
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      socket.write(`GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
      socket.pause();
      let closed = false;
      socket.on('close', () => (closed = true));
      socket.on('error', () => undefined); // a reset when the server cuts it off
      const reader = new SseTestClient(`${small.url}/api/stream`);
      clients.push(reader);
      await reader.waitFor('the preamble', () => reader.events.length > 0);
      await new Promise((r) => setTimeout(r, 200)); // the raw client is registered
      // Distinct bars (no coalescing possible) until the socket's buffers are full and more
      // than 50 bars wait; bounded: at most 60 rounds of 1000 bars (~30 MB of events).
      let rounds = 0;
      for (; rounds < 60 && (await metric('cvd_web_stream_dropped_total', small, 'reason="slow"')) === 0; rounds++) {
        const bars: BarRow[] = [];
        for (let i = 0; i < 1000; i++) {
          const [b] = walkBars({ market: 'usdm', symbol: `S${rounds}X${i % 50}`, startMs: START + Math.floor(i / 50) * MINUTE, minutes: 1, seed: i, price: 100 });
          bars.push(b!);
        }
        await publishBars(producer, slowTopic, bars);
        await new Promise((r) => setTimeout(r, 50));
      }
      await eventuallyTrue(async () => (await metric('cvd_web_stream_dropped_total', small, 'reason="slow"')) === 1, 'the slow client dropped');
      assert.equal(await metric('cvd_web_stream_clients', small), 1, 'only the reading client is left');
      // The reading client still gets its bars.
      const [spotBar] = walkBars({ market: 'spot', symbol: 'READER', startMs: START, minutes: 1, seed: 26 });
      await publishBars(producer, slowTopic, [spotBar!]);
      // Every bar, each batch of 1000 at once: a client that keeps up is never dropped.
      await reader.waitFor('every bar', () => reader.bars().length === rounds * 1000 + 1, 30_000);
      assert.deepEqual(reader.bars().at(-1), expectedPush(spotBar!));
      assert.equal(new Set(reader.bars().map((b) => `${String(b.symbol)}|${String(b.time)}`)).size, rounds * 1000 + 1);
      // The cut-off client's connection is gone (it would reconnect and refetch).
      socket.resume();
      await eventuallyTrue(async () => closed, 'the slow socket closed');
      assert.ok(rounds >= 2, `the socket's buffers filled first (${rounds} rounds of 1000 bars)`);
    } finally {
      socket.destroy();
      await small.close();
    }
  });

  test('bad parameters are a 400 naming the parameter; pings; beyond max clients a 503; close ends every stream cleanly', async () => {
    const bad = await fetch(`${web.url}/api/stream?market=nyse`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /^market:/);
    const small = await startWeb({ questdb: { httpUrl: stack.questdbHttp }, table, port: 0, logger, stream: { maxClients: 1, pingIntervalMs: 100 } });
    try {
      const first = new SseTestClient(`${small.url}/api/stream`);
      assert.equal((await first.response).status, 200);
      await first.waitFor('a ping comment', () => first.events.some((e) => e.event === ':' && e.data === 'ping'));
      const second = await fetch(`${small.url}/api/stream`);
      assert.equal(second.status, 503);
      assert.equal(second.headers.get('retry-after'), '5');
      assert.match(((await second.json()) as { error: string }).error, /too many stream clients/);
      await small.close();
      assert.equal(await first.ended, 'done', 'the response ended cleanly (not reset)');
    } finally {
      await small.close();
    }
  });
});
