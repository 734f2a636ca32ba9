/**
 * Hostile inputs against the real processes (issue 5). Every service runs as a process; ingest
 * reaches the simulator through a loopback man-in-the-middle that injects frames Binance never
 * sends (a 10 MB frame, a 100 KB frame, binary frames, `1e309`, `NaN`, `-0`, empty strings,
 * numbers instead of strings, deep nesting, huge ids). Then broken records go to the trades
 * topic, the admin API is abused and the symbol file is vandalised. Nothing dies, every bad
 * input is counted and dead-lettered or refused, the bars equal the simulator's ground truth,
 * the symbol set does not move, and no secret appears in any process output.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { createLogger } from '@cvd/common';
import { createKafka, type Consumer } from '@cvd/kafka';
import { AGG_TRADE_V1, WIRE_MAGIC } from '@cvd/schemas';
import { freePort } from '@cvd/stack';
import { getTestStack, uniqueId, eventually, type TestStackEndpoints } from '@cvd/test-kit';
import { MINUTE } from './expected.js';
import { Pipeline } from './pipeline.js';
import { serviceScript, type ServiceName } from './process.js';

const START = Date.UTC(2024, 4, 1, 0, 0);
const KAFKA_SECRET = 'kafka-sasl-secret-7d1e0b9c55aa';
const QDB_SECRET = 'questdb-secret-3b8f61c2e4d7';
let stack: TestStackEndpoints;

/** A frame derived from a real one: `(text) => hostile` or raw bytes to send. */
interface Injection {
  readonly name: string;
  readonly make: (real: string) => string | Buffer;
  readonly binary?: boolean;
  readonly market?: 'spot' | 'usdm';
}

const sub = (field: string, token: string) => (real: string): string => real.replace(new RegExp(`("${field}":)("[^"]*"|[^,}]*)`), `$1${token}`);
const INJECTIONS: readonly Injection[] = [
  { name: 'q 1e309', make: sub('q', '1e309') },
  { name: 'p NaN', make: sub('p', 'NaN') },
  { name: 'q -0', make: sub('q', '-0') },
  { name: 'p empty', make: sub('p', '""') },
  { name: 'q number', make: sub('q', '12.5') },
  { name: 'a huge', make: sub('a', '9007199254740993') },
  { name: 'a 1e309', make: sub('a', '1e309') },
  { name: 's NUL', make: sub('s', '"BTC\\u0000USDT"') },
  { name: 'deep nesting', make: (r) => r.replace(/"data":\{.*\}\}$/, `"data":${'['.repeat(20_000)}${']'.repeat(20_000)}}`) },
  { name: 'empty frame', make: () => '' },
  { name: 'binary frame', make: (r) => Buffer.from(r), binary: true },
  { name: '100 KB frame', make: (r) => r.replace('"m":', `"pad":"${'x'.repeat(100_000)}","m":`) },
  { name: '10 MB frame', make: (r) => r.replace('"m":', `"pad":"${'x'.repeat(10 * 1024 * 1024)}","m":`), market: 'usdm' },
];

/** ingest → proxy → simulator, injecting one hostile frame after every `every`-th data frame. */
async function startProxy(simPort: number, every: number): Promise<{ port: number; injected: Map<string, number>; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 1024 * 1024 });
  await new Promise((r) => wss.once('listening', r));
  const injected = new Map<string, number>();
  const next = { spot: 0, usdm: 0 } as Record<string, number>;
  const frames = { spot: 0, usdm: 0 } as Record<string, number>;
  wss.on('connection', (client, req) => {
    const market = (req.url ?? '').split('/')[1] ?? '';
    const upstream = new WebSocket(`ws://127.0.0.1:${simPort}${req.url ?? '/'}`, { perMessageDeflate: false, autoPong: false, maxPayload: 1024 * 1024 });
    const pending: [WebSocket.RawData, boolean][] = [];
    upstream.on('open', () => pending.splice(0).forEach(([d, b]) => upstream.send(d, { binary: b })));
    client.on('message', (d, isBinary) => (upstream.readyState === WebSocket.OPEN ? upstream.send(d, { binary: isBinary }) : pending.push([d, isBinary])));
    upstream.on('ping', (d) => client.readyState === WebSocket.OPEN && client.ping(d));
    client.on('pong', (d) => upstream.readyState === WebSocket.OPEN && upstream.pong(d));
    upstream.on('message', (d, isBinary) => {
      if (client.readyState !== WebSocket.OPEN) return;
      const text = d.toString();
      client.send(text, { binary: isBinary });
      if (!text.includes('"aggTrade"') || !(market in frames)) return;
      frames[market] = (frames[market] ?? 0) + 1;
      if ((frames[market] ?? 0) % every !== 0) return;
      // Inject only what belongs to this market, each injection once per market.
      while ((next[market] ?? 0) < INJECTIONS.length) {
        const inj = INJECTIONS[next[market] ?? 0] as Injection;
        next[market] = (next[market] ?? 0) + 1;
        if (inj.market !== undefined && inj.market !== market) continue;
        client.send(inj.make(text), { binary: inj.binary === true });
        injected.set(inj.name, (injected.get(inj.name) ?? 0) + 1);
        break;
      }
    });
    const closeBoth = (): void => {
      client.terminate();
      upstream.terminate();
    };
    upstream.on('close', closeBoth);
    client.on('close', closeBoth);
    upstream.on('error', closeBoth);
    client.on('error', closeBoth);
  });
  const port = (wss.address() as { port: number }).port;
  return {
    port,
    injected,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** A service process with its whole output captured (not only the tail). */
function runProcess(name: ServiceName, env: Record<string, string>): { output: () => string; running: () => boolean; stop: () => Promise<void> } {
  const child = spawn(process.execPath, [serviceScript(name)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    output: () => out,
    running: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

const assertNoSecrets = (label: string, text: string, secrets: readonly string[]): void => {
  for (const s of secrets) assert.ok(!text.includes(s), `${label} printed a secret: ${text.split('\n').find((l) => l.includes(s))?.slice(0, 300)}`);
};

before(async () => {
  stack = await getTestStack();
});

describe('hostile inputs against the running pipeline', () => {
  let pipeline: Pipeline | undefined;
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  let consumer: Consumer | undefined;
  after(async () => {
    await consumer?.disconnect().catch(() => undefined);
    await pipeline?.stop().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
  });

  test('bad frames, broken records, admin abuse and a vandalised symbol file: nothing dies, nothing valid is lost, no secret printed', async () => {
    const simPort = await freePort();
    const opsPort = await freePort();
    proxy = await startProxy(simPort, 40);
    const secrets = { KAFKA_SASL_USERNAME: 'cvd', KAFKA_SASL_PASSWORD: KAFKA_SECRET };
    const ws = (m: string): string => `ws://127.0.0.1:${proxy?.port}/${m}`;
    pipeline = await Pipeline.start({
      stack,
      sim: { port: simPort, pace: { mode: 'speed', factor: 30 }, sources: [{ kind: 'synthetic', seed: 55, startTime: START, counts: { spot: 2, usdm: 2 }, durationMs: 3 * MINUTE }] },
      env: {
        ingest: { ...secrets, BINANCE_SPOT_WS_URL: ws('spot'), BINANCE_USDM_WS_URL: ws('usdm'), OPS_PORT: String(opsPort), INGEST_RECONNECT_INITIAL: '100ms' },
        config: secrets,
        aggregator: secrets,
      },
    });
    const p = pipeline;
    const dead: { value: Buffer; headers: Record<string, string> }[] = [];
    consumer = createKafka({ brokers: [stack.brokers], clientId: uniqueId('hostile') }, createLogger({ service: 'hostile', level: 'silent' })).consumer({ groupId: uniqueId('hostile'), maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: p.names.deadLetter, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        dead.push({ value: message.value ?? Buffer.alloc(0), headers });
      },
    });

    // 1. Websocket frames: the bars equal the ground truth around every bad frame.
    const symbolsBefore = (await p.admin('GET', '/symbols')).body;
    const { actual, expected } = await p.settle({ beforeMs: START + 2 * MINUTE });
    assert.ok(expected.length >= 8, `${expected.length} bars`);
    assert.deepEqual(actual, expected);
    const injected = [...proxy.injected.values()].reduce((a, b) => a + b, 0);
    assert.equal(proxy.injected.get('10 MB frame'), 1, JSON.stringify([...proxy.injected]));
    assert.ok(injected >= 2 * INJECTIONS.length - 1, `injected ${injected}: ${JSON.stringify([...proxy.injected])}`);
    const opsUrl = `http://127.0.0.1:${opsPort}/metrics`;
    assert.equal(await metric(opsUrl, 'cvd_ingest_malformed_total'), injected, 'every bad frame counted');
    await eventually(async () => dead.filter((d) => d.headers.source === 'ingest').length >= injected, 15_000, 200);
    const fromIngest = dead.filter((d) => d.headers.source === 'ingest');
    assert.equal(fromIngest.length, injected);
    assert.ok(fromIngest.every((d) => d.headers.reason !== undefined && d.headers.reason.length > 0));
    const reasons = new Set(fromIngest.map((d) => d.headers.reason));
    for (const r of ['invalid-decimal', 'invalid-json', 'invalid-id', 'invalid-symbol', 'invalid-field', 'binary', 'too-large']) assert.ok(reasons.has(r), `reason ${r} in ${[...reasons].join(',')}`);
    assert.ok(fromIngest.some((d) => d.headers.truncated === 'true' && d.value.length === 64 * 1024), 'the 100 KB frame is kept truncated');
    assert.ok(fromIngest.every((d) => d.value.length <= 64 * 1024));
    assert.ok(await metric(opsUrl, 'cvd_ingest_reconnects_total') >= 1, 'the 10 MB frame closed the connection (1009)');

    // 2. Broken records on the trades topic: dead-lettered by the aggregator, bars unchanged.
    const producer = createKafka({ brokers: [stack.brokers], clientId: uniqueId('hostile-p') }, createLogger({ service: 'hostile', level: 'silent' })).producer();
    await producer.connect();
    const validBody = AGG_TRADE_V1.type.toBuffer({ market: 'usdm', symbol: 'BTCUSDT', aggId: 1, price: '1', qty: '1e5', firstId: 1, lastId: 1, tradeTimeMs: START, eventTimeMs: START, buyerMaker: false, recovered: false, receivedAtMs: START });
    const broken = [
      Buffer.from([0x00, 0x01, 0x02]),
      Buffer.from([WIRE_MAGIC, AGG_TRADE_V1.id, 0x02]),
      Buffer.from([WIRE_MAGIC, 0xff, 0x00]),
      Buffer.concat([Buffer.from([WIRE_MAGIC, AGG_TRADE_V1.id]), validBody]),
      Buffer.from('{"e":"aggTrade"}'),
    ];
    await producer.send({ topic: p.names.trades, messages: broken.map((value) => ({ key: 'usdm:BTCUSDT', value })) });
    await producer.disconnect();
    await eventually(async () => dead.filter((d) => d.headers.service === 'aggregator').length >= broken.length, 20_000, 200);
    assert.ok(dead.filter((d) => d.headers.service === 'aggregator').every((d) => (d.headers.reason ?? '').length > 0));

    // 3. Admin API abuse against the real config service.
    const abuse: [string, string, unknown, string | undefined, number][] = [
      ['POST', '/symbols', { market: 'usdm', symbol: 'ETHUSDT' }, 'wrong-token-0123456789', 401],
      ['POST', '/symbols', { market: 'usdm', symbol: 'ETHUSDT' }, '', 401],
      ['POST', '/symbols', 'x'.repeat(70_000), undefined, 413],
      ['POST', '/symbols', '{"market":', undefined, 400],
      ['POST', '/symbols', { market: 'usdm', symbol: "BTC'; DROP TABLE x; --" }, undefined, 400],
      ['POST', '/symbols', { market: 'usdm', symbol: 'NOSUCHSYMBOLUSDT' }, undefined, 400],
      ['DELETE', '/symbols/usdm/..%2F..%2Fetc%2Fpasswd', undefined, undefined, 400],
      ['DELETE', '/symbols/..%2Fusdm/BTCUSDT', undefined, undefined, 400],
    ];
    for (const [method, path, body, token, status] of abuse) {
      const r = await p.admin(method, path, body, token);
      assert.equal(r.status, status, `${method} ${path} → ${JSON.stringify(r.body).slice(0, 200)}`);
    }
    const wrongType = await fetch(p.adminUrl(), { method: 'POST', headers: { authorization: `Bearer ${p.token}`, 'content-type': 'text/plain' }, body: '{}' });
    assert.equal(wrongType.status, 415);
    const burst = await Promise.all(Array.from({ length: 200 }, (_, i) => p.admin('POST', '/symbols', { market: 'usdm', symbol: 'ETHUSDT' }, `bad-${i}`)));
    assert.ok(burst.every((r) => r.status === 401));

    // 4. A vandalised symbol file: refused, the previous set stays.
    const files = [
      'spot: [BTCUSDT\nusdm: {',
      "usdm:\n  - \"BTC'USDT\"\n  - \"BTC;USDT\"\n  - \"BTC\\u0000USDT\"\n  - \"BTC\\nUSDT\"\n  - \"usdm:BTCUSDT\"\n",
      `usdm:\n  - ${'A'.repeat(10_000)}\n`,
      `spot:\n${'  - BTCUSDT\n'.repeat(100_000)}`,
    ];
    for (const text of files) {
      writeFileSync(p.symbolsFile, text);
      await new Promise((r) => setTimeout(r, 400));
      const now = await p.admin('GET', '/symbols');
      assert.equal(now.status, 200);
      assert.deepEqual((now.body as { symbols?: unknown }).symbols, (symbolsBefore as { symbols?: unknown }).symbols, 'the symbol set does not change');
    }

    // Nothing died; the bars still equal the ground truth.
    for (const [label, proc] of p.procs) assert.ok(proc.running, `${label} is running:\n${proc.log.slice(-2000)}`);
    const again = await p.rows(`ts < '${new Date(START + 2 * MINUTE).toISOString()}'`);
    assert.deepEqual(again, expected);

    // Secrets: neither the admin token, the wrong tokens, nor the Kafka password in any output.
    for (const [label, proc] of p.procs) assertNoSecrets(label, proc.log, [p.token, KAFKA_SECRET, 'wrong-token-0123456789']);
  });
});

describe('secrets on error paths (every service a real process)', () => {
  test('bad environments, SASL against a plaintext broker, unreachable QuestDB: secrets never printed', async () => {
    const token = 'admin-token-secret-5c0ffee5c0ffee';
    const deadPort = await freePort();
    const common = { KAFKA_BROKERS: stack.brokers, OPS_PORT: '0', LOG_LEVEL: 'debug', TOPIC_TRADES: uniqueId('sec.t'), TOPIC_SYMBOLS: uniqueId('sec.s'), TOPIC_DEADLETTER: uniqueId('sec.d'), TOPIC_AGGREGATOR_STATE: uniqueId('sec.a') };
    const sasl = { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'cvd', KAFKA_SASL_PASSWORD: KAFKA_SECRET };
    const runs = [
      // Bad environment: a secret variable that fails validation, next to a bad port.
      runProcess('config', { ...common, CONFIG_ADMIN_TOKEN: 'short secret x', KAFKA_SASL_PASSWORD: KAFKA_SECRET, OPS_PORT: '99999' }),
      runProcess('ingest', { ...common, KAFKA_SASL_MECHANISM: `gss-${KAFKA_SECRET}`, KAFKA_SASL_PASSWORD: KAFKA_SECRET }),
      runProcess('aggregator', { ...common, QUESTDB_PASSWORD: QDB_SECRET, QUESTDB_TOKEN: QDB_SECRET, QUESTDB_HTTP_URL: 'ftp://nowhere', KAFKA_SASL_PASSWORD: KAFKA_SECRET }),
      // Failed connections: SASL PLAIN against our plaintext broker; QuestDB not listening.
      runProcess('config', { ...common, ...sasl, CONFIG_ADMIN_TOKEN: token, CONFIG_ADMIN_PORT: '0', CONFIG_FILE: '/nonexistent/symbols.yaml', CONFIG_VERIFY_SYMBOLS: 'false' }),
      runProcess('ingest', { ...common, ...sasl }),
      runProcess('aggregator', { ...common, ...sasl, QUESTDB_HTTP_URL: `http://127.0.0.1:${deadPort}`, QUESTDB_USERNAME: 'admin', QUESTDB_PASSWORD: QDB_SECRET, QUESTDB_TOKEN: QDB_SECRET }),
      runProcess('aggregator', { ...common, QUESTDB_HTTP_URL: `http://127.0.0.1:${deadPort}`, QUESTDB_USERNAME: 'admin', QUESTDB_PASSWORD: QDB_SECRET, QUESTDB_TOKEN: QDB_SECRET }),
    ];
    try {
      // Bad environments exit at once with a message; the others log their failures for a while.
      await eventually(async () => runs.slice(0, 3).every((r) => !r.running()), 10_000, 100);
      await new Promise((r) => setTimeout(r, 6_000));
      for (const [i, r] of runs.entries()) {
        const out = r.output();
        assert.ok(out.length > 0, `run ${i} printed nothing`);
        assertNoSecrets(`run ${i}`, out, [KAFKA_SECRET, QDB_SECRET, token, 'short secret x']);
      }
      assert.match(runs[0]?.output() ?? '', /CONFIG_ADMIN_TOKEN=<redacted/);
      assert.match(runs[1]?.output() ?? '', /KAFKA_SASL_MECHANISM=<redacted/);
      assert.match(runs[2]?.output() ?? '', /QUESTDB_HTTP_URL/);
    } finally {
      await Promise.all(runs.map((r) => r.stop()));
    }
  });
});
