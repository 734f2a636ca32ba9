import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createLogger } from './logger.js';
import { LifecycleError, runService, type ProcessLike } from './lifecycle.js';
import { CaptureStream } from './capture-stream.js';

class FakeProcess extends EventEmitter implements ProcessLike {
  readonly exits: number[] = [];
  private resolveExit: (code: number) => void = () => {};
  readonly exited = new Promise<number>((resolve) => (this.resolveExit = resolve));
  exit(code: number): void {
    this.exits.push(code);
    this.resolveExit(code);
  }
}

function setup() {
  const out = new CaptureStream();
  return { out, logger: createLogger({ service: 'svc', destination: out }), proc: new FakeProcess() };
}

test('SIGTERM calls stop once and exits 0; handlers are removed', async () => {
  const { logger, proc, out } = setup();
  const calls: string[] = [];
  const handle = runService({ logger, process: proc, start: () => void calls.push('start'), stop: async () => void calls.push('stop') });
  assert.equal(await handle.started, true);
  assert.equal(proc.listenerCount('SIGTERM'), 1);
  proc.emit('SIGTERM', 'SIGTERM');
  void handle.shutdown('again');
  assert.equal(await proc.exited, 0);
  await handle.shutdown('after');
  assert.deepEqual(calls, ['start', 'stop']);
  assert.deepEqual(proc.exits, [0]);
  assert.equal(proc.listenerCount('SIGTERM'), 0);
  assert.equal(proc.listenerCount('uncaughtException'), 0);
  assert.ok(out.lines().some((l) => l['msg'] === 'stopping' && l['reason'] === 'signal SIGTERM'));
});

test('a failed start is logged, stops, and exits 1', async () => {
  const { logger, proc, out } = setup();
  let stops = 0;
  const handle = runService({
    logger,
    process: proc,
    start: async () => {
      throw new Error('kafka unreachable');
    },
    stop: () => void stops++,
  });
  assert.equal(await handle.started, false);
  assert.equal(await proc.exited, 1);
  assert.equal(stops, 1);
  const fatal = out.lines().find((l) => l['msg'] === 'start failed');
  assert.equal(fatal?.['level'], 'fatal');
  assert.match(JSON.stringify(fatal?.['err']), /kafka unreachable/);
});

test('uncaught exceptions and unhandled rejections are logged and exit 1', async () => {
  for (const event of ['uncaughtException', 'unhandledRejection']) {
    const { logger, proc, out } = setup();
    runService({ logger, process: proc, start: () => {}, stop: () => {} });
    proc.emit(event, new Error(`from ${event}`));
    assert.equal(await proc.exited, 1);
    assert.match(out.text, new RegExp(`from ${event}`));
  }
});

test('a second signal while stopping forces exit 1; a failing stop exits 1', async () => {
  const { logger, proc } = setup();
  let release: (() => void) | undefined;
  runService({ logger, process: proc, start: () => {}, stop: () => new Promise<void>((r) => (release = r)) });
  await new Promise((r) => setImmediate(r));
  proc.emit('SIGINT', 'SIGINT');
  proc.emit('SIGINT', 'SIGINT');
  assert.deepEqual(proc.exits, [1]);
  await new Promise((r) => setImmediate(r));
  assert.ok(release, 'stop() was called');
  release();

  const b = setup();
  runService({
    logger: b.logger,
    process: b.proc,
    start: () => {},
    stop: () => {
      throw new Error('flush failed');
    },
  });
  b.proc.emit('SIGTERM', 'SIGTERM');
  assert.equal(await b.proc.exited, 1);
});

test('stop timeout exits 1; runService twice on one process is refused', async () => {
  const { logger, proc, out } = setup();
  runService({ logger, process: proc, start: () => {}, stop: () => new Promise<void>(() => {}), stopTimeoutMs: 20 });
  assert.throws(
    () => runService({ logger, process: proc, start: () => {}, stop: () => {} }),
    (e: unknown) => e instanceof LifecycleError && e.code === 'already-running',
  );
  proc.emit('SIGTERM', 'SIGTERM');
  assert.equal(await proc.exited, 1);
  assert.match(out.text, /stop-timeout/);
});
