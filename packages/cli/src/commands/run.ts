import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultStackDir, findRepoRoot, stackDown, stackUp } from '@cvd/stack';
import { startSimulator, type Simulator } from '@cvd/simulator';
import { CliUsageError } from '../env.js';
import { MARKETS } from '@cvd/core';
import { buildSimOptions, SIM_ARG_SPEC, SIM_OPTIONS_HELP, type SimArgs } from './sim-options.js';
import { simulatorEnv } from './sim.js';
import { describeEndpoints, stackOptionsFromEnv } from './stack.js';
import { refuseStaleReplay } from './replay-check.js';
import { cliLogger } from './data-env.js';
import { Supervisor } from './supervisor.js';

export const RUN_HELP = `Usage: cvd run [--sim [simulator options]] [--config FILE] [--aggregators N]

Starts the whole pipeline: Kafka and QuestDB (if not running), the config service, ingest,
the aggregator(s) and the web charts. Without --sim it reads live Binance with the symbols of
--config (default config/symbols.yaml). With --sim it runs the bundled Binance simulator and
configures its symbols automatically. Ctrl-C stops everything cleanly.

  --sim             use the simulator instead of live Binance
  --config FILE     symbol file for live mode (default config/symbols.yaml)
  --aggregators N   aggregator replicas (default 1)
  --keep-stack      leave Kafka and QuestDB running on exit

${SIM_OPTIONS_HELP}
  (--sim-file F --sim-market M are accepted as aliases of --file/--market)

A --file replay into a stack that already holds trades at or after the file's first trade
(e.g. the demo ran before) is refused at start with one line and exit status 1: the
aggregator would drop every replayed trade as too old. Run \`cvd stack reset\` first.
`;

type RunArgs = SimArgs & { sim?: boolean; config?: string; aggregators?: string; 'keep-stack'?: boolean; 'sim-file'?: string[]; 'sim-market'?: string; help?: boolean };

/** Lists the simulator's symbols (from its own exchangeInfo) as a config-service YAML file. */
async function simulatorSymbolsYaml(sim: Simulator): Promise<{ yaml: string; count: number }> {
  const paths: Record<string, string> = { spot: '/api/v3/exchangeInfo', usdm: '/fapi/v1/exchangeInfo', coinm: '/dapi/v1/exchangeInfo' };
  const lines = ['# Written by `cvd run --sim`: every symbol the simulator serves.'];
  let count = 0;
  for (const m of MARKETS) {
    const res = await fetch(`${sim.restUrl(m)}${paths[m]}`);
    const body = (await res.json()) as { symbols?: { symbol: string }[] };
    const symbols = (body.symbols ?? []).map((s) => s.symbol);
    if (symbols.length === 0) continue;
    count += symbols.length;
    lines.push(`${m}:`, ...symbols.map((s) => `  - ${JSON.stringify(s)}`));
  }
  return { yaml: `${lines.join('\n')}\n`, count };
}

export async function runCommand(argv: string[], out: (s: string) => void): Promise<number> {
  let a: RunArgs;
  try {
    ({ values: a } = parseArgs({
      args: argv,
      options: {
        ...SIM_ARG_SPEC,
        sim: { type: 'boolean' },
        config: { type: 'string' },
        aggregators: { type: 'string' },
        'keep-stack': { type: 'boolean' },
        'sim-file': { type: 'string', multiple: true },
        'sim-market': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }) as { values: RunArgs });
  } catch (err) {
    throw new CliUsageError(`${(err as Error).message}\n\n${RUN_HELP}`, { cause: err });
  }
  if (a.help) {
    out(RUN_HELP);
    return 0;
  }
  if (a['sim-file']) a.file = [...(a.file ?? []), ...a['sim-file']];
  if (a['sim-market']) a.market = a['sim-market'];
  const replicas = a.aggregators === undefined ? 1 : Number(a.aggregators);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 32) throw new CliUsageError('--aggregators expects a whole number from 1 to 32');
  const repo = findRepoRoot();
  const simOptions = a.sim ? buildSimOptions(a, Date.now()) : undefined;
  const configFile = a.config ?? join(repo, 'config', 'symbols.yaml');
  if (!a.sim && !existsSync(configFile)) throw new CliUsageError(`symbol file ${configFile} not found; pass --config FILE or use --sim`);

  out('starting Kafka and QuestDB (if needed)…');
  const stackOpts = stackOptionsFromEnv((l) => out(`  ${l}`));
  const { endpoints, alreadyRunning } = await stackUp(stackOpts);
  out(describeEndpoints(endpoints));

  let sim: Simulator | undefined;
  const runDir = join(stackOpts.stackDir ?? defaultStackDir(repo), 'run');
  mkdirSync(runDir, { recursive: true });
  let symbolsFile = configFile;
  let binance: Record<string, string> = {};
  if (simOptions) {
    sim = await startSimulator(simOptions);
    binance = simulatorEnv(sim);
    const { yaml, count } = await simulatorSymbolsYaml(sim);
    symbolsFile = join(runDir, 'symbols.yaml');
    writeFileSync(symbolsFile, yaml);
    out(`Binance simulator on 127.0.0.1:${sim.port} serving ${count} symbols (written to ${symbolsFile})`);
    // A replay of history into a stack holding newer trades would drop every trade: refuse (replay-check.ts).
    if (a.file?.length) {
      const check = { brokers: endpoints.kafka.brokers, topic: process.env.TOPIC_TRADES || 'cvd.trades.v1', fileFirstMs: sim.firstTradeTimeMs(), logger: cliLogger('silent'), warn: out };
      await refuseStaleReplay(check).catch(async (err: unknown) => {
        await sim?.stop();
        if (!alreadyRunning && !a['keep-stack']) await stackDown(stackOpts);
        throw err;
      });
    }
  } else {
    out(`live Binance, symbols from ${configFile}`);
  }

  const token = randomBytes(24).toString('hex');
  const common = { KAFKA_BROKERS: endpoints.kafka.brokers, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };
  const svc = (name: string): string => join(repo, 'services', name, 'dist', 'main.js');
  let failed = false;
  let wake!: () => void;
  const done = new Promise<void>((resolve) => (wake = resolve));
  const sup = new Supervisor(out, () => {
    failed = true;
    wake();
  });
  sup.start({ name: 'config', script: svc('config'), env: { ...common, ...binance, CONFIG_FILE: symbolsFile, CONFIG_ADMIN_TOKEN: token, OPS_PORT: '9465' } });
  for (let i = 0; i < replicas; i++) {
    sup.start({
      name: replicas === 1 ? 'aggregator' : `aggregator-${i + 1}`,
      script: svc('aggregator'),
      env: { ...common, QUESTDB_HTTP_URL: endpoints.questdb.httpUrl, OPS_PORT: String(9466 + i * 10), AGGREGATOR_INSTANCE_ID: `run-${i + 1}` },
    });
  }
  sup.start({ name: 'ingest', script: svc('ingest'), env: { ...common, ...binance, OPS_PORT: '9464' } });
  const web = svc('web');
  if (existsSync(web)) sup.start({ name: 'web', script: web, env: { ...common, QUESTDB_HTTP_URL: endpoints.questdb.httpUrl, WEB_PORT: process.env.WEB_PORT ?? '8080' } });

  out('');
  out('Where to look:');
  if (existsSync(web)) {
    out(`  charts          http://127.0.0.1:${process.env.WEB_PORT ?? '8080'}/   (live bars pushed from cvd.bars.v1)`);
    out(`  live stream     http://127.0.0.1:${process.env.WEB_PORT ?? '8080'}/api/stream   (server-sent events; or: npx cvd tail)`);
  }
  out(`  QuestDB console ${endpoints.questdb.httpUrl}/   e.g.  SELECT * FROM cvd_bars_1m ORDER BY ts DESC LIMIT 20;`);
  out(`  admin API       http://127.0.0.1:8081/symbols   (Authorization: Bearer ${token})`);
  out('  health/metrics  ingest :9464, config :9465, aggregator :9466  (/health, /metrics)');
  out('Ctrl-C stops everything.');
  out('');

  const onSignal = (): void => wake();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await done;
  // Bounded whatever Kafka and QuestDB do (issue 12): ingest first (at most 2 s), then the rest
  // together, everything gone within 13 s; Kafka and QuestDB get what is left of 15 s.
  const stopStarted = Date.now();
  out('stopping: ingest, then config, aggregator(s) and web…');
  const aggNames = replicas === 1 ? ['aggregator'] : Array.from({ length: replicas }, (_, i) => `aggregator-${i + 1}`);
  await sup.stop([['ingest'], ['config', ...aggNames, 'web']]);
  await Promise.race([sim?.stop(), new Promise((r) => setTimeout(r, 1_000).unref())]);
  if (!alreadyRunning && !a['keep-stack']) {
    out('stopping Kafka and QuestDB…');
    await stackDown({ ...stackOpts, graceMs: Math.max(1_000, 14_000 - (Date.now() - stopStarted)) });
  } else {
    out('Kafka and QuestDB keep running (`npx cvd stack down` stops them).');
  }
  return failed ? 1 : 0;
}
