import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { ConfigError } from '@cvd/core';
import { bootService, type RunningService, type ServiceDefinition } from './bootstrap.js';
import { CaptureStream } from './capture-stream.js';
import { envLogLevel, envPort } from './env.js';
import { EXIT_CODES, type ProcessLike } from './lifecycle.js';

class FakeProcess extends EventEmitter implements ProcessLike {
  readonly exits: number[] = [];
  private resolveExit: (code: number) => void = () => {};
  readonly exited = new Promise<number>((resolve) => (this.resolveExit = resolve));
  exit(code: number): void {
    this.exits.push(code);
    this.resolveExit(code);
  }
}

const Env = z.object({
  OPS_PORT: envPort().default(0),
  DEMO_API_TOKEN: z.string().min(16, { error: 'expected at least 16 characters' }).optional(),
  LOG_LEVEL: envLogLevel().default('info'),
});

function setup(start: ServiceDefinition<typeof Env>['start'], env: Record<string, string> = {}) {
  const proc = new FakeProcess();
  const logs = new CaptureStream();
  let stderr = '';
  const booted = bootService(
    { name: 'demo', envSchema: Env, ops: (e) => ({ host: '127.0.0.1', port: e.OPS_PORT }), start },
    { env, process: proc, logDestination: logs, stderr: { write: (t: string) => (stderr += t) } },
  );
  return { proc, logs, booted, stderr: () => stderr };
}

test('a bad environment is reported on stderr without the secret and exits 2 before start', async () => {
  let starts = 0;
  const { proc, booted, logs, stderr } = setup(
    async () => {
      starts++;
      return { stop: async () => {} };
    },
    { OPS_PORT: 'x', DEMO_API_TOKEN: 'short-secret' },
  );
  assert.equal(booted, undefined);
  assert.deepEqual(proc.exits, [EXIT_CODES.badConfig]);
  assert.equal(EXIT_CODES.badConfig, 2);
  assert.match(stderr(), /^cvd-demo: Invalid environment \(2 variables\)/);
  assert.match(stderr(), /OPS_PORT="x": expected a port number/);
  assert.match(stderr(), /DEMO_API_TOKEN=<redacted, 12 chars>/);
  assert.doesNotMatch(stderr(), /short-secret/);
  assert.equal(starts, 0);
  assert.equal(logs.text, '', 'no logger was created');
  assert.equal(proc.listenerCount('SIGTERM'), 0, 'no signal handlers were installed');
});

test('starts, serves the service health, metrics and routes, stops on SIGTERM and exits 0', async () => {
  const calls: string[] = [];
  let seenLevel: string | undefined;
  let healthy = true;
  const { proc, booted, logs } = setup(
    async ({ env, logger, registry }) => {
      seenLevel = env.LOG_LEVEL;
      calls.push('start');
      new Counter({ name: 'demo_things_total', help: 'things', registers: [registry] }).inc();
      logger.child({ component: 'x' }).info('working');
      const running: RunningService = {
        stop: async () => void calls.push('stop'),
        health: () => ({ healthy, checks: { thing: { healthy } } }),
        routes: [{ method: 'GET', path: '/hello', handler: (_req, res) => void res.end('hi') }],
      };
      return running;
    },
    { LOG_LEVEL: 'debug' },
  );
  assert.ok(booted);
  assert.equal(await booted.started, true);
  assert.equal(seenLevel, 'debug');
  const url = booted.ops()?.url;
  assert.ok(url, 'the ops server listens once start() resolved');
  assert.equal((await fetch(`${url}/health`)).status, 200);
  healthy = false;
  const unhealthy = await fetch(`${url}/health`);
  assert.equal(unhealthy.status, 503);
  assert.deepEqual(((await unhealthy.json()) as { checks: unknown }).checks, { thing: { healthy: false } });
  assert.match(await (await fetch(`${url}/metrics`)).text(), /demo_things_total/);
  assert.equal(await (await fetch(`${url}/hello`)).text(), 'hi');

  proc.emit('SIGTERM', 'SIGTERM');
  assert.equal(await proc.exited, EXIT_CODES.ok);
  assert.deepEqual(calls, ['start', 'stop']);
  await assert.rejects(fetch(`${url}/health`), 'the ops server is closed');
  const lines = logs.lines();
  assert.ok(lines.every((l) => l['service'] === 'demo'));
  assert.ok(lines.some((l) => l['msg'] === 'working' && l['component'] === 'x'));
  assert.ok(lines.some((l) => l['msg'] === 'stopped'));
});

test('a service without health() is healthy while it runs', async () => {
  const { proc, booted } = setup(async () => ({ stop: async () => {} }));
  assert.ok(booted);
  assert.equal(await booted.started, true);
  assert.equal((await fetch(`${booted.ops()?.url}/health`)).status, 200);
  await booted.shutdown('test');
  assert.deepEqual(proc.exits, [0]);
});

test('a failed start exits 1 and serves nothing; a ConfigError from start exits 2', async () => {
  const failed = setup(async () => {
    throw new Error('broker unreachable');
  });
  assert.ok(failed.booted);
  assert.equal(await failed.booted.started, false);
  assert.equal(await failed.proc.exited, EXIT_CODES.failure);
  assert.equal(failed.booted.ops(), undefined);
  assert.match(failed.logs.text, /broker unreachable/);

  const refused = setup(async () => {
    throw new ConfigError('invalid-option', 'SASL needs a username');
  });
  assert.ok(refused.booted);
  assert.equal(await refused.booted.started, false);
  assert.equal(await refused.proc.exited, EXIT_CODES.badConfig);
});

test('a stop that fails still closes the ops server, and exits 1', async () => {
  const { proc, booted } = setup(async () => ({
    stop: async () => {
      throw new Error('flush failed');
    },
  }));
  assert.ok(booted);
  assert.equal(await booted.started, true);
  const url = booted.ops()?.url;
  proc.emit('SIGINT', 'SIGINT');
  assert.equal(await proc.exited, EXIT_CODES.failure);
  await assert.rejects(fetch(`${url}/health`));
});

test('fail(err) from a running service: one fatal line with the message, the stop runs, exit 1', async () => {
  let stops = 0;
  let fail: ((err: Error) => void) | undefined;
  const { proc, logs } = setup(async (ctx) => {
    fail = ctx.fail;
    return { stop: async () => void stops++ };
  });
  while (fail === undefined) await new Promise((r) => setTimeout(r, 5));
  fail(new Error('Kafka sends failed for 180 s (last error: ECONNREFUSED); giving up after 180 s'));
  fail(new Error('a second failure is ignored'));
  assert.equal(await proc.exited, EXIT_CODES.failure);
  assert.equal(stops, 1);
  const fatal = logs.lines().filter((l) => l.level === 'fatal' || l.level === 60);
  assert.equal(fatal.length, 1, 'one fatal line');
  assert.match(String(fatal[0]?.msg), /^Kafka sends failed for 180 s .*: exiting \(code 1\) so that the supervisor restarts the service$/);
});
