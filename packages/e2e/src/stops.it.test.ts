/**
 * Issue 12, failure 3: stopping is bounded whatever the state of Kafka and QuestDB. `cvd run
 * --sim` (config, aggregator, ingest and web as child processes of the CLI) runs against a
 * throw-away stack; once bars are being made one server is stopped, SIGINT goes to `cvd run`,
 * and the CLI and every service must be gone within 15 s (the protocol bound), every
 * service having stopped by itself (none killed by the CLI).
 *
 * `cvd run` uses fixed ports (ops 9464–9466, admin 8081): this file runs its scenarios one
 * after the other, on its own stack.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { freePort } from '@cvd/stack';
import { eventually, startThrowawayStack, type OwnedTestStack } from '@cvd/test-kit';

const CLI = fileURLToPath(new URL('../../cli/dist/bin/cvd.js', import.meta.url));
const BOUND_MS = 15_000;
let stack: OwnedTestStack;
const leftovers = new Set<number>();

before(async () => {
  stack = await startThrowawayStack();
});
after(async () => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await stack?.stop();
});

/** The throw-away stack's state file names the servers' pids; a restarted server has a new one. */
function refreshStatePids(): void {
  const file = join(stack.dir, 'state.json');
  const state = JSON.parse(readFileSync(file, 'utf8')) as { kafka: { pid: number }; questdb: { pid: number } };
  state.kafka.pid = stack.kafkaPid;
  state.questdb.pid = stack.questdbPid;
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Run {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

async function startRun(): Promise<Run> {
  const child = spawn(process.execPath, [CLI, 'run', '--sim', '--symbols', '3', '--markets', 'spot'], {
    env: { ...process.env, CVD_STACK_DIR: stack.dir, WEB_PORT: String(await freePort()), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-200_000)));
  child.stderr?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-200_000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

/** Trades applied by the aggregator (its /metrics on :9466), 0 while unreachable. */
async function tradesApplied(): Promise<number> {
  try {
    const text = await (await fetch('http://127.0.0.1:9466/metrics')).text();
    const m = /^cvd_aggregator_trades_applied_total(?:\{[^}]*\})? (\d+)/m.exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Runs one scenario; returns how long cvd run took to exit after SIGINT. */
async function scenario(stop: 'kafka' | 'questdb'): Promise<number> {
  const run = await startRun();
  try {
    await eventually(async () => (await tradesApplied()) > 0, 120_000, 1000).catch(() => {
      throw new Error(`the pipeline made no bars:\n${run.output().slice(-6000)}`);
    });
    const services = childPids(run.child.pid!);
    for (const pid of services) leftovers.add(pid);
    assert.ok(services.length >= 4, `config, aggregator, ingest and web run (${services.length} children)`);
    await stack.stopComponent(stop);
    // Let the services notice (failed sends and writes are being retried).
    await new Promise((r) => setTimeout(r, 3_000));
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const code = await Promise.race([run.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), BOUND_MS + 10_000))]);
    const took = Date.now() - t0;
    const stillAlive = services.filter(alive);
    const log = run.output();
    assert.notEqual(code, 'hung', `cvd run still alive ${BOUND_MS + 10_000} ms after SIGINT with ${stop} stopped:\n${log.slice(-6000)}`);
    assert.ok(took <= BOUND_MS, `cvd run took ${took} ms to exit after SIGINT with ${stop} stopped:\n${log.slice(-6000)}`);
    assert.deepEqual(stillAlive, [], 'no service outlives cvd run');
    assert.doesNotMatch(log, /did not stop within/, 'every service stopped by itself (none had to be killed)');
    return took;
  } finally {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      for (const pid of childPids(run.child.pid!)) leftovers.add(pid);
      run.child.kill('SIGKILL');
    }
  }
}

describe('bounded stops (cvd run --sim)', { concurrency: false }, () => {
  // QuestDB first: it restarts faster than Kafka for the second scenario.
  test('QuestDB stopped: SIGINT to cvd run — it and every service exit within 15 s', { timeout: 240_000 }, async (t) => {
    t.diagnostic(`exited ${await scenario('questdb')} ms after SIGINT`);
  });

  test('Kafka stopped: SIGINT to cvd run — it and every service exit within 15 s', { timeout: 300_000 }, async (t) => {
    await stack.startComponent('questdb');
    refreshStatePids();
    t.diagnostic(`exited ${await scenario('kafka')} ms after SIGINT`);
  });
});
