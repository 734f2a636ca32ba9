import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { main } from './main.js';

const BIN = fileURLToPath(new URL('./bin/cvd.js', import.meta.url));

test('PATH without java: `cvd stack up` fails fast naming the missing JDK', () => {
  const bin = mkdtempSync(join(tmpdir(), 'cvd-nojava-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  const stackDir = mkdtempSync(join(tmpdir(), 'cvd-stackdir-'));
  const r = spawnSync(process.execPath, [BIN, 'stack', 'up'], {
    encoding: 'utf8',
    env: { PATH: bin, HOME: process.env.HOME ?? '/tmp', CVD_STACK_DIR: stackDir },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no Java runtime found/);
  assert.match(r.stderr, /install a JDK 17\+/);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  assert.deepEqual(readdirSync(stackDir), [], 'fails before provisioning or starting anything');
  assert.doesNotMatch(r.stdout, /starting Kafka/);
});

test('unknown commands and options are usage errors (exit 2)', async () => {
  const err: string[] = [];
  assert.equal(await main(['frobnicate'], () => undefined, (s) => err.push(s)), 2);
  assert.match(err[0] ?? '', /unknown command "frobnicate"/);
  assert.equal(await main(['sim', '--speed', 'fast'], () => undefined, (s) => err.push(s)), 2);
  assert.match(err[1] ?? '', /--speed expects a positive factor/);
});
