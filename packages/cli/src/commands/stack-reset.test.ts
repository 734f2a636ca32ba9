/** `cvd stack reset` (issue 12): stop, delete the data dirs (never the jar cache), confirm unless --yes. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { CliUsageError } from '../env.js';
import { STACK_HELP, stackCommand, type ConfirmIo } from './stack.js';

let root: string;
let stackDir: string;
let cacheDir: string;
const saved = { stack: process.env.CVD_STACK_DIR, cache: process.env.CVD_CACHE_DIR };

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'cvd-reset-'));
  stackDir = join(root, 'stack');
  cacheDir = join(root, 'cache');
  for (const d of [join(stackDir, 'kafka', 'data', 'cvd.trades.v1-0'), join(stackDir, 'questdb', 'db', 'cvd_bars_1m'), join(stackDir, 'questdb', 'conf'), cacheDir]) mkdirSync(d, { recursive: true });
  writeFileSync(join(stackDir, 'kafka', 'data', 'cvd.trades.v1-0', '00000000000000000000.log'), 'x'.repeat(2048));
  writeFileSync(join(stackDir, 'questdb', 'db', 'cvd_bars_1m', 'ts.d'), 'y'.repeat(1024));
  writeFileSync(join(stackDir, 'kafka', 'server.properties'), 'log.dirs=…\n');
  writeFileSync(join(stackDir, 'questdb', 'conf', 'server.conf'), 'x\n');
  writeFileSync(join(cacheDir, 'kafka.jar'), 'jar');
  process.env.CVD_STACK_DIR = stackDir;
  process.env.CVD_CACHE_DIR = cacheDir;
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  for (const [k, v] of [['CVD_STACK_DIR', saved.stack], ['CVD_CACHE_DIR', saved.cache]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const io = (interactive: boolean, answer = ''): ConfirmIo & { asked: string[] } => {
  const asked: string[] = [];
  return { interactive, asked, ask: async (q) => (asked.push(q), answer) };
};
const dataLeft = (): boolean[] => [existsSync(join(stackDir, 'kafka', 'data')), existsSync(join(stackDir, 'questdb', 'db'))];

test('--yes: deletes the Kafka log dirs and the QuestDB db dir, keeps configs and the jar cache, prints what it deleted', async () => {
  const lines: string[] = [];
  assert.equal(await stackCommand(['reset', '--yes'], (l) => lines.push(l), io(false)), 0);
  assert.deepEqual(dataLeft(), [false, false]);
  assert.ok(existsSync(join(stackDir, 'kafka', 'server.properties')));
  assert.ok(existsSync(join(stackDir, 'questdb', 'conf', 'server.conf')));
  assert.ok(existsSync(join(cacheDir, 'kafka.jar')), 'the jar cache is never deleted');
  const text = lines.join('\n');
  assert.match(text, /deleted Kafka topics \(log dirs\): .*kafka\/data/);
  assert.match(text, /deleted QuestDB tables \(db dir\): .*questdb\/db/);
  assert.match(text, /kafka +not-running/);
});

test('stdin not a terminal and no --yes: refuses with a clear message, deletes nothing', async () => {
  await assert.rejects(stackCommand(['reset'], () => undefined, io(false)), (err: unknown) => err instanceof CliUsageError && /stdin is not a terminal: pass --yes/.test(err.message));
  assert.deepEqual(dataLeft(), [true, true]);
});

test('on a terminal it asks; anything but "yes" deletes nothing, "yes" deletes', async () => {
  const no = io(true, 'n');
  const lines: string[] = [];
  assert.equal(await stackCommand(['reset'], (l) => lines.push(l), no), 1);
  assert.equal(no.asked.length, 1);
  assert.match(lines.join('\n'), /nothing deleted/);
  assert.deepEqual(dataLeft(), [true, true]);
  assert.equal(await stackCommand(['reset'], () => undefined, io(true, 'yes')), 0);
  assert.deepEqual(dataLeft(), [false, false]);
});

test('a jar cache inside a data dir is refused; unknown flags are usage errors; help documents reset', async () => {
  process.env.CVD_CACHE_DIR = join(stackDir, 'questdb', 'db', 'cache');
  await assert.rejects(stackCommand(['reset', '--yes'], () => undefined, io(false)), /jar cache .* lies inside/);
  assert.deepEqual(dataLeft(), [true, true]);
  await assert.rejects(stackCommand(['reset', '--force'], () => undefined, io(false)), CliUsageError);
  assert.match(STACK_HELP, /reset +stop both servers and DELETE their data/);
  assert.match(STACK_HELP, /--yes/);
});
