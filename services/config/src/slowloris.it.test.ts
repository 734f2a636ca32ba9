/**
 * A slowloris against the real config process (issue 12, deliverable 7): `main.js` spawned as
 * a child process, then headers and a body dribbled one byte every 500 ms into both of its
 * HTTP servers (the admin API and the ops server with /health and /metrics). Every connection
 * must be cut off within the shared bound (request timeout plus one check interval), a
 * protocol timeout. Before the fix the ops server kept Node's defaults (60 s headers, 300 s
 * request, checked every 30 s) and the admin API allowed 30 s plus the check interval.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { slowClientCutOffMs } from '@cvd/common';
import { getTestStack, uniqueTopic } from '@cvd/test-kit';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const BOUND_MS = slowClientCutOffMs();
/** Scheduling slack on a loaded 2-core machine; far below Node's defaults (60 s / 300 s). */
const SLACK_MS = 2_000;

/** Writes `head` then one byte of `drip` every 500 ms; resolves when the server closes (or after the guard). */
function dribble(port: number, head: string, drip: string): Promise<{ closedAfterMs: number; response: string; cutByServer: boolean }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let i = 0;
    let cutByServer = true;
    socket.on('data', (d: Buffer) => (response += d.toString()));
    socket.on('error', () => undefined);
    socket.write(head);
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(drip[i++ % drip.length] ?? 'x');
    }, 500);
    const guard = setTimeout(() => {
      cutByServer = false;
      socket.destroy();
    }, BOUND_MS + SLACK_MS + 5_000);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(guard);
      resolve({ closedAfterMs: Date.now() - started, response, cutByServer });
    });
  });
}

test('config main.js: headers and bodies dribbled into the admin API and the ops server are cut off within the bound', async () => {
  const { brokers } = await getTestStack();
  const dir = mkdtempSync(join(tmpdir(), 'cvd-config-slowloris-'));
  const token = 'slowloris-token-0123456789abcdef';
  writeFileSync(join(dir, 'symbols.yaml'), 'usdm: [BTCUSDT]\n');
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      KAFKA_BROKERS: brokers,
      TOPIC_SYMBOLS: uniqueTopic('cfg-slow-symbols'),
      TOPIC_TRADES: uniqueTopic('cfg-slow-trades'),
      TOPIC_DEADLETTER: uniqueTopic('cfg-slow-dl'),
      TOPIC_AGGREGATOR_STATE: uniqueTopic('cfg-slow-state'),
      TRADES_PARTITIONS: '1',
      CONFIG_FILE: join(dir, 'symbols.yaml'),
      CONFIG_VERIFY_SYMBOLS: 'false',
      CONFIG_ADMIN_PORT: '0',
      CONFIG_ADMIN_TOKEN: token,
      OPS_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const portOf = (msg: string): number | undefined => {
      const line = out.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
      return line === undefined ? undefined : (JSON.parse(line) as { port?: number }).port;
    };
    const deadline = Date.now() + 60_000;
    while (portOf('ops server listening') === undefined || portOf('admin API listening') === undefined) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `service did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const admin = portOf('admin API listening') as number;
    const ops = portOf('ops server listening') as number;
    const headers = 'POST /symbols HTTP/1.1\r\nHost: x\r\nX-Slow: ';
    const body = (path: string): string => `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[`;
    const cases = {
      'admin headers': dribble(admin, headers, 'abcdefgh'),
      'admin body': dribble(admin, body('/symbols'), ' '),
      'ops headers': dribble(ops, headers.replace('/symbols', '/health'), 'abcdefgh'),
      'ops body': dribble(ops, body('/health'), ' '),
    };
    const results = await Promise.all(Object.entries(cases).map(async ([name, p]) => [name, await p] as const));
    const summary = results.map(([name, r]) => `${name}: ${r.cutByServer ? `closed after ${r.closedAfterMs} ms` : `still open after ${r.closedAfterMs} ms`}`).join('; ');
    for (const [name, r] of results) {
      assert.ok(r.cutByServer && r.closedAfterMs <= BOUND_MS + SLACK_MS, `${name} not cut off within ${BOUND_MS} ms (${summary})`);
      assert.match(r.response, /^(HTTP\/1\.1 4\d\d |$)/, `${name}: ${r.response.slice(0, 40)}`);
    }
    // The service is still up and answers a normal request.
    assert.equal((await fetch(`http://127.0.0.1:${ops}/health`)).status, 200);
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
