import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { getTestStack, uniqueTopic } from '@cvd/test-kit';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

test('main.js: starts from the environment, serves health, stops cleanly on SIGTERM', async () => {
  const { brokers } = await getTestStack();
  const dir = mkdtempSync(join(tmpdir(), 'cvd-config-main-'));
  const token = 'main-test-token-0123456789abcdef';
  try {
    writeFileSync(join(dir, 'symbols.yaml'), 'usdm: [BTCUSDT]\n');
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        KAFKA_BROKERS: brokers,
        TOPIC_SYMBOLS: uniqueTopic('cfg-main-symbols'),
        TOPIC_TRADES: uniqueTopic('cfg-main-trades'),
        TOPIC_DEADLETTER: uniqueTopic('cfg-main-dl'),
        TOPIC_AGGREGATOR_STATE: uniqueTopic('cfg-main-state'),
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
    const deadline = Date.now() + 60_000;
    while (!/"msg":"started"/.test(out)) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `service did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const opsLine = out.split('\n').find((l) => l.includes('"ops server listening"'));
    const port = (JSON.parse(opsLine ?? '{}') as { port?: number }).port;
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    assert.match(out, /"msg":"stopped"/);
    assert.doesNotMatch(out, new RegExp(token), 'the token is never logged');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('main.js: a bad environment fails start-up with a clear message and no secret', async () => {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, CONFIG_ADMIN_TOKEN: 'tooshort-secret', CONFIG_ADMIN_PORT: 'x' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 2, 'bad configuration exits 2 (EXIT_CODES.badConfig)');
  assert.match(err, /CONFIG_ADMIN_PORT="x": expected a port number/);
  assert.match(err, /CONFIG_ADMIN_TOKEN=<redacted, 15 chars>/);
  assert.doesNotMatch(err, /tooshort-secret/);
});
