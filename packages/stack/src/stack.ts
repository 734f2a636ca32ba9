import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from './errors.js';
import { findJavaRuntimes, pickJava, type JavaRuntime } from './java.js';
import { kafkaHealthy, startKafka, waitKafkaHealthy, type KafkaPorts } from './kafka.js';
import { defaultCacheDir, defaultStackDir, findRepoRoot, readVersions, type InfraVersions } from './paths.js';
import { commandLine, isAlive, terminate } from './process.js';
import { isPortFree } from './ports.js';
import { provision } from './provision.js';
import { questdbHealthy, startQuestDb, waitQuestDbHealthy, type QuestDbPorts } from './questdb.js';

export interface StackOptions {
  /** Checkout root (holds `infra/`). @defaultValue found from the working directory */
  repoRoot?: string;
  /** Jar cache. @defaultValue `<repo>/.cache/infra` */
  cacheDir?: string;
  /** Data, logs and pid state. @defaultValue `<repo>/.stack` */
  stackDir?: string;
  /** Bind address of every listener. @defaultValue '127.0.0.1' */
  host?: string;
  /** @defaultValue { broker: 9092, controller: 9093 } */
  kafkaPorts?: KafkaPorts;
  /** @defaultValue { http: 9000, pg: 8812, ilp: 9009, min: 9003 } */
  questdbPorts?: QuestDbPorts;
  /** Servers outlive this process (CLI) or die with it (tests). @defaultValue true */
  detached?: boolean;
  /** @defaultValue 1024 */
  kafkaHeapMb?: number;
  /** @defaultValue 1024 */
  questdbHeapMb?: number;
  kafkaOverrides?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  progress?: (line: string) => void;
}

export const DEFAULT_KAFKA_PORTS: KafkaPorts = { broker: 9092, controller: 9093 };
export const DEFAULT_QUESTDB_PORTS: QuestDbPorts = { http: 9000, pg: 8812, ilp: 9009, min: 9003 };

export interface ComponentInfo {
  pid: number;
  logFile: string;
  java: JavaRuntime;
  version: string;
}

export interface StackEndpoints {
  host: string;
  kafka: ComponentInfo & { brokers: string; ports: KafkaPorts };
  questdb: ComponentInfo & { httpUrl: string; ports: QuestDbPorts; consoleAvailable: boolean };
  dir: string;
}

interface Resolved {
  repoRoot: string;
  cacheDir: string;
  stackDir: string;
  host: string;
  kafkaPorts: KafkaPorts;
  questdbPorts: QuestDbPorts;
  detached: boolean;
  versions: InfraVersions;
  env: NodeJS.ProcessEnv;
  say: (line: string) => void;
  opts: StackOptions;
}

function resolveOptions(opts: StackOptions): Resolved {
  const repoRoot = opts.repoRoot ?? findRepoRoot();
  return {
    repoRoot,
    cacheDir: opts.cacheDir ?? defaultCacheDir(repoRoot),
    stackDir: opts.stackDir ?? defaultStackDir(repoRoot),
    host: opts.host ?? '127.0.0.1',
    kafkaPorts: opts.kafkaPorts ?? DEFAULT_KAFKA_PORTS,
    questdbPorts: opts.questdbPorts ?? DEFAULT_QUESTDB_PORTS,
    detached: opts.detached ?? true,
    versions: readVersions(repoRoot),
    env: opts.env ?? process.env,
    say: opts.progress ?? (() => undefined),
    opts,
  };
}

const stateFile = (stackDir: string): string => join(stackDir, 'state.json');

export function readState(stackDir: string): StackEndpoints | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(stackDir), 'utf8')) as StackEndpoints;
  } catch {
    return undefined;
  }
}

/** The pid still runs the server we started (not a recycled pid). */
function ownsPid(pid: number, marker: string): boolean {
  return isAlive(pid) && commandLine(pid).includes(marker);
}

const KAFKA_MARKER = 'kafka.Kafka';
const QUESTDB_MARKER = 'io.questdb.ServerMain';

/** Picks a JDK for each server and prints nothing: callers print `java.origin`/`path`. */
export function pickRuntimes(r: { versions: InfraVersions; env: NodeJS.ProcessEnv }): { kafka: JavaRuntime; questdb: JavaRuntime } {
  const { versions, env } = r;
  const kafka = pickJava(
    `Kafka ${versions.kafka.version}`,
    versions.kafka.minJava,
    undefined,
    findJavaRuntimes(env, { name: 'CVD_KAFKA_JAVA_HOME', home: env.CVD_KAFKA_JAVA_HOME }),
  );
  const questdb = pickJava(
    `QuestDB ${versions.questdb.version}`,
    versions.questdb.minJava,
    versions.questdb.maxJava,
    findJavaRuntimes(env, { name: 'CVD_QUESTDB_JAVA_HOME', home: env.CVD_QUESTDB_JAVA_HOME }),
  );
  return { kafka, questdb };
}

function consoleAvailable(jar: string): boolean {
  // The web console ships as io/questdb/site/public.zip inside the jar; a cheap check is the
  // zip's central directory containing that name.
  try {
    return readFileSync(jar).includes('io/questdb/site/public.zip');
  } catch {
    return false;
  }
}

/**
 * Starts Kafka and QuestDB (provisioning them on first use) and waits until both are healthy.
 * If either fails, whatever was started is stopped again before the error is thrown.
 */
export async function launchStack(options: StackOptions = {}): Promise<StackEndpoints> {
  const r = resolveOptions(options);
  const runtimes = pickRuntimes(r);
  r.say(`java for Kafka:   Java ${runtimes.kafka.major} (${runtimes.kafka.origin}: ${runtimes.kafka.path})`);
  r.say(`java for QuestDB: Java ${runtimes.questdb.major} (${runtimes.questdb.origin}: ${runtimes.questdb.path})`);
  const wanted: [string, number, string][] = [
    ['Kafka broker', r.kafkaPorts.broker, 'CVD_KAFKA_PORT'],
    ['Kafka controller', r.kafkaPorts.controller, 'CVD_KAFKA_CONTROLLER_PORT'],
    ['QuestDB HTTP', r.questdbPorts.http, 'CVD_QUESTDB_HTTP_PORT'],
    ['QuestDB PG wire', r.questdbPorts.pg, 'CVD_QUESTDB_PG_PORT'],
    ['QuestDB ILP/TCP', r.questdbPorts.ilp, 'CVD_QUESTDB_ILP_PORT'],
    ['QuestDB health', r.questdbPorts.min, 'CVD_QUESTDB_MIN_PORT'],
  ];
  for (const [what, port, variable] of wanted) {
    if (!(await isPortFree(port, r.host))) {
      throw new StackError(
        'port-busy',
        `cvd stack: port ${port} (${what}) on ${r.host} is already in use; stop what holds it (\`ss -ltnp 'sport = :${port}'\`) or choose another with ${variable}`,
      );
    }
  }
  const artifacts = await provision({ repoRoot: r.repoRoot, cacheDir: r.cacheDir, versions: r.versions, java: runtimes.kafka, env: r.env, progress: r.say });
  const kafkaDir = join(r.stackDir, 'kafka');
  const questdbDir = join(r.stackDir, 'questdb');
  mkdirSync(kafkaDir, { recursive: true });
  mkdirSync(questdbDir, { recursive: true });
  r.say('starting Kafka and QuestDB…');
  const started: number[] = [];
  try {
    const kafka = startKafka({
      java: runtimes.kafka,
      libDir: artifacts.kafkaLibDir,
      dir: kafkaDir,
      ports: r.kafkaPorts,
      host: r.host,
      heapMb: options.kafkaHeapMb,
      detached: r.detached,
      overrides: options.kafkaOverrides,
    });
    started.push(kafka.pid);
    const questdb = startQuestDb({
      java: runtimes.questdb,
      jar: artifacts.questdbJar,
      dir: questdbDir,
      ports: r.questdbPorts,
      host: r.host,
      heapMb: options.questdbHeapMb,
      detached: r.detached,
    });
    started.push(questdb.pid);
    const brokers = `${r.host}:${r.kafkaPorts.broker}`;
    const httpUrl = `http://${r.host}:${r.questdbPorts.http}`;
    await Promise.all([
      waitKafkaHealthy(brokers, kafka.pid, kafka.logFile).then(() => r.say(`Kafka healthy at ${brokers}`)),
      waitQuestDbHealthy(httpUrl, questdb.pid, questdb.logFile).then(() => r.say(`QuestDB healthy at ${httpUrl}`)),
    ]);
    const endpoints: StackEndpoints = {
      host: r.host,
      dir: r.stackDir,
      kafka: { ...kafka, java: runtimes.kafka, version: r.versions.kafka.version, brokers, ports: r.kafkaPorts },
      questdb: {
        ...questdb,
        java: runtimes.questdb,
        version: r.versions.questdb.version,
        httpUrl,
        ports: r.questdbPorts,
        consoleAvailable: consoleAvailable(artifacts.questdbJar),
      },
    };
    writeFileSync(stateFile(r.stackDir), `${JSON.stringify(endpoints, null, 2)}\n`);
    return endpoints;
  } catch (err) {
    await Promise.all(started.map((pid) => terminate(pid, 15_000)));
    throw err;
  }
}

export interface ComponentStatus {
  component: 'kafka' | 'questdb';
  state: 'healthy' | 'unhealthy' | 'down';
  pid?: number;
  endpoint?: string;
  ports?: Record<string, number>;
  logFile?: string;
}

/** Health of the stack recorded in `stackDir`. */
export async function stackStatus(options: StackOptions = {}): Promise<ComponentStatus[]> {
  const r = resolveOptions(options);
  const state = readState(r.stackDir);
  if (!state) return [{ component: 'kafka', state: 'down' }, { component: 'questdb', state: 'down' }];
  const kafkaUp = ownsPid(state.kafka.pid, KAFKA_MARKER);
  const questdbUp = ownsPid(state.questdb.pid, QUESTDB_MARKER);
  const [kOk, qOk] = await Promise.all([
    kafkaUp ? kafkaHealthy(state.kafka.brokers) : Promise.resolve(false),
    questdbUp ? questdbHealthy(state.questdb.httpUrl) : Promise.resolve(false),
  ]);
  return [
    {
      component: 'kafka',
      state: kafkaUp ? (kOk ? 'healthy' : 'unhealthy') : 'down',
      ...(kafkaUp ? { pid: state.kafka.pid } : {}),
      endpoint: state.kafka.brokers,
      ports: { ...state.kafka.ports },
      logFile: state.kafka.logFile,
    },
    {
      component: 'questdb',
      state: questdbUp ? (qOk ? 'healthy' : 'unhealthy') : 'down',
      ...(questdbUp ? { pid: state.questdb.pid } : {}),
      endpoint: state.questdb.httpUrl,
      ports: { ...state.questdb.ports },
      logFile: state.questdb.logFile,
    },
  ];
}

/**
 * `cvd stack up`: reuses a healthy running stack, otherwise launches one (detached).
 * Returns the endpoints and whether it was already running.
 */
export async function stackUp(options: StackOptions = {}): Promise<{ endpoints: StackEndpoints; alreadyRunning: boolean }> {
  const r = resolveOptions(options);
  const state = readState(r.stackDir);
  if (state) {
    const status = await stackStatus(options);
    if (status.every((s) => s.state === 'healthy')) return { endpoints: state, alreadyRunning: true };
    if (status.some((s) => s.state !== 'down')) {
      r.say('a previous stack is partly running; stopping it first…');
      await stackDown(options);
    }
  }
  return { endpoints: await launchStack({ ...options, detached: options.detached ?? true }), alreadyRunning: false };
}

/** `cvd stack down`: SIGTERM both servers (SIGKILL after a grace period) and forget them. */
export async function stackDown(
  options: StackOptions & { graceMs?: number } = {},
): Promise<{ component: 'kafka' | 'questdb'; result: 'gone' | 'terminated' | 'killed' | 'not-running' }[]> {
  const r = resolveOptions(options);
  const state = readState(r.stackDir);
  if (!state) return [{ component: 'kafka', result: 'not-running' }, { component: 'questdb', result: 'not-running' }];
  const stop = async (pid: number, marker: string): Promise<'gone' | 'terminated' | 'killed' | 'not-running'> =>
    ownsPid(pid, marker) ? terminate(pid, options.graceMs ?? 30_000) : 'not-running';
  // Both at once: QuestDB and Kafka do not depend on each other.
  const [k, q] = await Promise.all([stop(state.kafka.pid, KAFKA_MARKER), stop(state.questdb.pid, QUESTDB_MARKER)]);
  rmSync(stateFile(r.stackDir), { force: true });
  return [
    { component: 'kafka', result: k },
    { component: 'questdb', result: q },
  ];
}

export function stackExists(stackDir: string): boolean {
  return existsSync(stateFile(stackDir));
}
