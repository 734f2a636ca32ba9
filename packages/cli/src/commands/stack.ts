import { defaultCacheDir, findRepoRoot, pickRuntimes, provision, readVersions, resetTargets, stackDown, stackReset, stackStatus, stackUp, type StackEndpoints, type StackOptions } from '@cvd/stack';
import { createInterface } from 'node:readline/promises';
import { CliUsageError, parseCliEnv } from '../env.js';

export const STACK_HELP = `Usage: cvd stack <fetch|up|status|down|reset [--yes]>

Runs real Kafka (KRaft, single node) and QuestDB natively from Maven Central artifacts.

  fetch    only download the pinned Kafka and QuestDB jars into the cache (needs Maven)
  up       fetch the servers on first use (needs Maven), start both, wait until healthy
  status   healthy / unhealthy / down per component, with ports and pids (exit 1 if not all healthy)
  down     SIGTERM both servers (SIGKILL after 30 s) and wait until they are gone
  reset    stop both servers and DELETE their data: every Kafka topic (.stack/kafka/data)
           and every QuestDB table (.stack/questdb/db); the jar cache, configs and logs stay.
           Use it before replaying older history (cvd run --sim --file …) into a used stack.
           Asks for confirmation; --yes skips it (required when stdin is not a terminal).
           \`cvd stack up\` then starts from empty state.

Environment:
  CVD_KAFKA_PORT (9092), CVD_KAFKA_CONTROLLER_PORT (9093),
  CVD_QUESTDB_HTTP_PORT (9000), CVD_QUESTDB_PG_PORT (8812), CVD_QUESTDB_ILP_PORT (9009),
  CVD_QUESTDB_MIN_PORT (9003), CVD_STACK_HOST (127.0.0.1),
  CVD_CACHE_DIR (<repo>/.cache/infra), CVD_STACK_DIR (<repo>/.stack),
  JAVA_HOME, or CVD_KAFKA_JAVA_HOME / CVD_QUESTDB_JAVA_HOME per server.
`;

export function stackOptionsFromEnv(progress: (line: string) => void): StackOptions {
  const env = parseCliEnv();
  return {
    host: env.host,
    kafkaPorts: env.kafkaPorts,
    questdbPorts: env.questdbPorts,
    ...(env.cacheDir ? { cacheDir: env.cacheDir } : {}),
    ...(env.stackDir ? { stackDir: env.stackDir } : {}),
    progress,
  };
}

export function describeEndpoints(e: StackEndpoints): string {
  const lines = [
    `Kafka ${e.kafka.version}    brokers ${e.kafka.brokers}   (pid ${e.kafka.pid}, log ${e.kafka.logFile})`,
    `QuestDB ${e.questdb.version}  ${e.questdb.httpUrl}  pg-wire ${e.host}:${e.questdb.ports.pg}  ilp/tcp ${e.host}:${e.questdb.ports.ilp}  (pid ${e.questdb.pid}, log ${e.questdb.logFile})`,
    e.questdb.consoleAvailable
      ? `QuestDB web console: ${e.questdb.httpUrl}/`
      : 'QuestDB web console: not in this artifact (use /exec or psql on the pg-wire port)',
  ];
  return lines.join('\n');
}

/** How `cvd stack reset` asks for confirmation (injected by tests). */
export interface ConfirmIo {
  /** stdin is a terminal. */
  readonly interactive: boolean;
  /** Asks the question; resolves with the answer line. */
  ask(question: string): Promise<string>;
}

const terminalIo: ConfirmIo = {
  interactive: process.stdin.isTTY === true,
  async ask(question) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function resetCommand(flags: string[], out: (s: string) => void, progress: (line: string) => void, io: ConfirmIo): Promise<number> {
  const unknown = flags.filter((f) => f !== '--yes' && f !== '-y');
  if (unknown.length > 0) throw new CliUsageError(`cvd stack reset: unknown option ${JSON.stringify(unknown[0])} (only --yes)`);
  const opts = stackOptionsFromEnv(progress);
  const targets = resetTargets(opts);
  out('cvd stack reset stops Kafka and QuestDB and deletes:');
  for (const t of targets) out(`  ${t.what.padEnd(24)} ${t.path}  ${t.exists ? mib(t.bytes) : '(absent)'}`);
  if (!flags.includes('--yes') && !flags.includes('-y')) {
    if (!io.interactive) throw new CliUsageError('cvd stack reset deletes every topic and table and stdin is not a terminal: pass --yes to confirm');
    const answer = (await io.ask('Delete this data? Type "yes" to confirm: ')).trim().toLowerCase();
    if (answer !== 'yes' && answer !== 'y') {
      out('nothing deleted');
      return 1;
    }
  }
  const { stopped, deleted } = await stackReset(opts);
  for (const s of stopped) out(`${s.component.padEnd(8)} ${s.result}`);
  if (deleted.length === 0) out('no data to delete: the stack was already empty');
  for (const t of deleted) out(`deleted ${t.what}: ${t.path} (${mib(t.bytes)})`);
  out('`npx cvd stack up` starts an empty stack.');
  return 0;
}

export async function stackCommand(args: string[], out: (s: string) => void, io: ConfirmIo = terminalIo): Promise<number> {
  const verb = args[0];
  const progress = (line: string): void => out(`  ${line}`);
  switch (verb) {
    case 'up': {
      const started = Date.now();
      const { endpoints, alreadyRunning } = await stackUp(stackOptionsFromEnv(progress));
      out(alreadyRunning ? 'stack already running and healthy:' : `stack up in ${((Date.now() - started) / 1000).toFixed(1)} s:`);
      out(describeEndpoints(endpoints));
      return 0;
    }
    case 'fetch': {
      const opts = stackOptionsFromEnv(progress);
      const repoRoot = findRepoRoot();
      const versions = readVersions(repoRoot);
      const java = pickRuntimes({ versions, env: process.env }).kafka;
      const cacheDir = opts.cacheDir ?? defaultCacheDir(repoRoot);
      const a = await provision({ repoRoot, cacheDir, versions, java, progress });
      out(`Kafka ${versions.kafka.version}: ${a.kafkaLibDir}`);
      out(`QuestDB ${versions.questdb.version}: ${a.questdbJar}`);
      return 0;
    }
    case 'status': {
      const status = await stackStatus(stackOptionsFromEnv(progress));
      for (const s of status) {
        const ports = s.ports ? Object.entries(s.ports).map(([k, v]) => `${k}=${v}`).join(' ') : '';
        out(`${s.component.padEnd(8)} ${s.state.padEnd(9)} ${s.pid ? `pid ${s.pid}` : 'pid -'}  ${s.endpoint ?? ''}  ${ports}`.trimEnd());
      }
      return status.every((s) => s.state === 'healthy') ? 0 : 1;
    }
    case 'down': {
      const results = await stackDown(stackOptionsFromEnv(progress));
      for (const r of results) out(`${r.component.padEnd(8)} ${r.result}`);
      return 0;
    }
    case 'reset':
      return resetCommand(args.slice(1), out, progress, io);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      out(STACK_HELP);
      return verb === undefined ? 2 : 0;
    default:
      throw new CliUsageError(`unknown stack command "${verb}"\n\n${STACK_HELP}`);
  }
}
