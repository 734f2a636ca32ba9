import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from './errors.js';
import type { JavaRuntime } from './java.js';
import { pollUntil } from './poll.js';
import { isAlive, spawnServer, tailFile } from './process.js';

export interface QuestDbPorts {
  /** Web console, REST `/exec` and ILP over HTTP. @defaultValue 9000 */
  http: number;
  /** PostgreSQL wire protocol. @defaultValue 8812 */
  pg: number;
  /** ILP over TCP. @defaultValue 9009 */
  ilp: number;
  /** Health and Prometheus metrics. @defaultValue 9003 */
  min: number;
}

export interface QuestDbOptions {
  java: JavaRuntime;
  jar: string;
  /** QuestDB root: `conf/`, `db/`, `questdb.log`. */
  dir: string;
  ports: QuestDbPorts;
  host?: string;
  /** @defaultValue 1024 */
  heapMb?: number;
  detached: boolean;
  /** Extra `server.conf` keys. */
  overrides?: Record<string, string>;
}

/** Worker pools and spin thresholds for a QuestDB that shares a small machine (see `questdbServerConf`). */
export const QUESTDB_LEAN_WORKERS: Readonly<Record<string, string>> = {
  'shared.worker.count': '1',
  'shared.network.worker.count': '1',
  'shared.query.worker.count': '1',
  'shared.write.worker.count': '1',
  'wal.apply.worker.count': '1',
  'mat.view.refresh.worker.count': '1',
  ...Object.fromEntries(
    ['shared.worker', 'wal.apply.worker', 'mat.view.refresh.worker'].flatMap((pool) => [
      [`${pool}.yield.threshold`, '10'],
      [`${pool}.nap.threshold`, '20'],
      [`${pool}.sleep.threshold`, '50'],
    ]),
  ),
};

export function questdbServerConf(host: string, ports: QuestDbPorts, overrides?: Record<string, string>): string {
  const conf: Record<string, string> = {
    'http.net.bind.to': `${host}:${ports.http}`,
    'pg.net.bind.to': `${host}:${ports.pg}`,
    'line.tcp.net.bind.to': `${host}:${ports.ilp}`,
    'http.min.net.bind.to': `${host}:${ports.min}`,
    'line.udp.enabled': 'false',
    'telemetry.enabled': 'false',
    // A small box shared with the services: one thread per pool, and workers that go to sleep
    // soon after their last job instead of spinning. Measured on 2 cores with the five views
    // (300 bars upserted every 5 s): 0.19 cores with the default pools and spin thresholds,
    // 0.11 with these; idle 0.04 either way. A bar table's cost is per transaction (each one
    // refreshes the views), so the aggregator writes few, large transactions.
    ...QUESTDB_LEAN_WORKERS,
    ...overrides,
  };
  return `${Object.entries(conf)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

export function startQuestDb(opts: QuestDbOptions): { pid: number; logFile: string } {
  const host = opts.host ?? '127.0.0.1';
  mkdirSync(join(opts.dir, 'conf'), { recursive: true });
  // Our keys are rewritten at every start so ports always match what we report.
  writeFileSync(join(opts.dir, 'conf', 'server.conf'), questdbServerConf(host, opts.ports, opts.overrides));
  const heap = opts.heapMb ?? 1024;
  const logFile = join(opts.dir, 'questdb.log');
  const java17Flags = ['--add-exports', 'java.base/jdk.internal.math=io.questdb'];
  return spawnServer(
    opts.java.path,
    [
      `-Xmx${heap}m`,
      '-XX:+UseParallelGC',
      ...java17Flags,
      '-p',
      opts.jar,
      '-m',
      'io.questdb/io.questdb.ServerMain',
      '-d',
      opts.dir,
    ],
    { cwd: opts.dir, logFile, detached: opts.detached },
  );
}

/** Healthy = `/exec?query=select 1` answers 200 with one row. */
export async function questdbHealthy(httpUrl: string, timeoutMs = 3000): Promise<boolean> {
  try {
    const res = await fetch(`${httpUrl}/exec?query=${encodeURIComponent('select 1')}`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return false;
    const body = (await res.json()) as { count?: number };
    return body.count === 1;
  } catch {
    return false;
  }
}

export async function waitQuestDbHealthy(httpUrl: string, pid: number, logFile: string, timeoutMs = 90_000): Promise<void> {
  const healthy = await pollUntil(async () => {
    if (!isAlive(pid)) {
      throw new StackError('start-failed', `cvd stack: QuestDB exited during start-up; last log lines (${logFile}):\n${tailFile(logFile)}`);
    }
    return questdbHealthy(httpUrl);
  }, { intervalMs: 250, timeoutMs });
  if (healthy) return;
  throw new StackError('not-healthy', `cvd stack: QuestDB did not become healthy within ${timeoutMs / 1000} s; see ${logFile}`);
}
