import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { join as joinPath } from 'node:path';
import {
  defaultCacheDir,
  defaultStackDir,
  findRepoRoot,
  freePorts,
  launchStack,
  pickRuntimes,
  provision,
  readState,
  readVersions,
  startKafka,
  startQuestDb,
  terminate,
  waitKafkaHealthy,
  waitQuestDbHealthy,
  type StackEndpoints,
} from '@cvd/stack';

/** Environment variables through which the runner hands one stack to every test process. */
export const TEST_ENV = {
  brokers: 'CVD_TEST_KAFKA_BROKERS',
  questdbHttp: 'CVD_TEST_QUESTDB_HTTP',
  questdbPg: 'CVD_TEST_QUESTDB_PG_PORT',
  /** Set to `running` to use the stack `cvd stack up` started instead of a throw-away one. */
  mode: 'CVD_TEST_STACK',
} as const;

export interface TestStackEndpoints {
  /** `host:port` of the Kafka broker. */
  brokers: string;
  /** `http://host:port` of QuestDB (REST `/exec` and ILP over HTTP). */
  questdbHttp: string;
  questdbPgPort: number;
}

export interface OwnedTestStack extends TestStackEndpoints {
  dir: string;
  kafkaPid: number;
  questdbPid: number;
  /** SIGTERM both servers; removes the throw-away directory unless `keep`. Idempotent. */
  stop(options?: { keep?: boolean }): Promise<void>;
  /** Fault injection: stop one server (SIGTERM, or SIGKILL when `kill`), keeping its data. */
  stopComponent(component: 'kafka' | 'questdb', options?: { kill?: boolean }): Promise<void>;
  /** Starts a stopped server again on the same ports and data, and waits until it is healthy. */
  startComponent(component: 'kafka' | 'questdb'): Promise<void>;
}

/**
 * Starts a throw-away Kafka + QuestDB on free ports in a fresh temporary directory.
 * The servers are children of this process; `stop()` ends them.
 */
export async function startThrowawayStack(options: { progress?: (line: string) => void; repoRoot?: string } = {}): Promise<OwnedTestStack> {
  const dir = mkdtempSync(join(tmpdir(), 'cvd-test-stack-'));
  const [broker, controller, http, pg, ilp, min] = (await freePorts(6)) as [number, number, number, number, number, number];
  let endpoints: StackEndpoints;
  try {
    endpoints = await launchStack({
      ...(options.repoRoot ? { repoRoot: options.repoRoot } : {}),
      stackDir: dir,
      detached: false,
      kafkaPorts: { broker, controller },
      questdbPorts: { http, pg, ilp, min },
      kafkaHeapMb: 768,
      questdbHeapMb: 768,
      // Small segments let compaction of test topics happen within a test's lifetime.
      kafkaOverrides: { 'log.cleaner.backoff.ms': '1000' },
      ...(options.progress ? { progress: options.progress } : {}),
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | undefined;
  const pids = { kafka: endpoints.kafka.pid, questdb: endpoints.questdb.pid };
  const handle: OwnedTestStack = {
    dir,
    brokers: endpoints.kafka.brokers,
    questdbHttp: endpoints.questdb.httpUrl,
    questdbPgPort: endpoints.questdb.ports.pg,
    get kafkaPid() {
      return pids.kafka;
    },
    get questdbPid() {
      return pids.questdb;
    },
    stop(opts) {
      stopped ??= (async () => {
        await Promise.all([terminate(pids.kafka, 20_000), terminate(pids.questdb, 20_000)]);
        if (!opts?.keep) rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
    async stopComponent(component, opts) {
      const pid = pids[component];
      if (opts?.kill) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await terminate(pid, 30_000);
    },
    async startComponent(component) {
      const repoRoot = options.repoRoot ?? findRepoRoot();
      const versions = readVersions(repoRoot);
      const java = pickRuntimes({ versions, env: process.env });
      const artifacts = await provision({ repoRoot, cacheDir: defaultCacheDir(repoRoot), versions, java: java.kafka });
      if (component === 'kafka') {
        const k = startKafka({
          java: java.kafka,
          libDir: artifacts.kafkaLibDir,
          dir: joinPath(dir, 'kafka'),
          ports: endpoints.kafka.ports,
          heapMb: 768,
          detached: false,
          overrides: { 'log.cleaner.backoff.ms': '1000' },
        });
        pids.kafka = k.pid;
        await waitKafkaHealthy(endpoints.kafka.brokers, k.pid, k.logFile);
      } else {
        const q = startQuestDb({ java: java.questdb, jar: artifacts.questdbJar, dir: joinPath(dir, 'questdb'), ports: endpoints.questdb.ports, heapMb: 768, detached: false });
        pids.questdb = q.pid;
        await waitQuestDbHealthy(endpoints.questdb.httpUrl, q.pid, q.logFile);
      }
    },
  };
  return handle;
}

/** Endpoints of the stack started by `cvd stack up` (for `CVD_TEST_STACK=running`). */
export function runningStackEndpoints(repoRoot = findRepoRoot()): TestStackEndpoints {
  const state = readState(defaultStackDir(repoRoot));
  if (!state) throw new Error('CVD_TEST_STACK=running but no stack is running: start one with `npx cvd stack up`');
  return { brokers: state.kafka.brokers, questdbHttp: state.questdb.httpUrl, questdbPgPort: state.questdb.ports.pg };
}

export function endpointsFromEnv(env: NodeJS.ProcessEnv = process.env): TestStackEndpoints | undefined {
  const brokers = env[TEST_ENV.brokers];
  const questdbHttp = env[TEST_ENV.questdbHttp];
  if (!brokers || !questdbHttp) return undefined;
  return { brokers, questdbHttp, questdbPgPort: Number(env[TEST_ENV.questdbPg] ?? 0) };
}

export function endpointsToEnv(e: TestStackEndpoints): Record<string, string> {
  return { [TEST_ENV.brokers]: e.brokers, [TEST_ENV.questdbHttp]: e.questdbHttp, [TEST_ENV.questdbPg]: String(e.questdbPgPort) };
}

let shared: Promise<TestStackEndpoints> | undefined;

/**
 * The Kafka and QuestDB an integration test uses. Under `cvd-test` (and `npm test`) that is the
 * one stack started for the whole run; `CVD_TEST_STACK=running` uses `cvd stack up`'s stack;
 * a test file run on its own (`node --test dist/x.it.test.js`) starts a throw-away stack that
 * dies with the process.
 */
export function getTestStack(): Promise<TestStackEndpoints> {
  shared ??= (async () => {
    const fromEnv = endpointsFromEnv();
    if (fromEnv) return fromEnv;
    if (process.env[TEST_ENV.mode] === 'running') return runningStackEndpoints();
    const own = await startThrowawayStack();
    const kill = (): void => {
      for (const pid of [own.kafkaPid, own.questdbPid]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      rmSync(own.dir, { recursive: true, force: true });
    };
    process.once('exit', kill);
    return own;
  })();
  return shared;
}
