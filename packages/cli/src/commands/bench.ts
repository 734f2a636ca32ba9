import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultOptions, PHASES, renderReport, runBench, type Phase } from '@cvd/bench';
import { CliUsageError } from '../env.js';

export const BENCH_HELP = `Usage: cvd bench [options]

Benchmarks the whole pipeline — the simulator's synthetic market through ingest, Kafka, the
aggregator(s) and QuestDB, every service a separate process — on a throw-away Kafka + QuestDB
started on free ports (your data is not touched), plus Kafka's own perf tools as a baseline.
Prints progress, then tables; see docs/BENCHMARKS.md.

Options:
  --quick              smaller sizes and durations (finishes in under 4 minutes)
  --json FILE          also write the full report as JSON
  --symbols N          latency phase: symbols (default 1000)
  --rate R             latency phase: aggTrades/s over all symbols (default 5000)
  --aggregators N      aggregator replicas for throughput and latency (default 1)
  --partitions P       partitions of the trades topic (default 12)
  --trades N           throughput phase: trades (default 1,000,000; quick 100,000)
  --seconds S          latency phase duration (default 120; quick 30)
  --steady LIST        steady phase runs, SYMBOLS@RATE comma-separated
                       (default 300@1000,2500@1000,300@2556; quick 300@2556)
  --steady-seconds S   steady phase: measured seconds per run after the warm-up
                       (default 180; quick 30)
  --phases LIST        comma-separated subset of ${PHASES.join(',')}
                       (default all; quick: all but scaling)
  --profile DIR        run the services under node --cpu-prof in the throughput phase; write
                       the .cpuprofile files and a self-time summary into DIR
  --use-running        use the stack of \`cvd stack up\` instead of a throw-away one
                       (creates and drops its own bench_* tables and bench.* topics)
`;

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new CliUsageError(`--${name} must be a positive whole number, got "${v}"`);
  return n;
}

/** `300@1000,2500@1000` → steady runs; a clear usage error otherwise. */
export function parseSteadyRuns(v: string): { symbols: number; rate: number }[] {
  const runs = v.split(',').map((s) => s.trim()).filter(Boolean).map((item) => {
    const m = /^(\d[\d_]*)@(\d[\d_]*)$/.exec(item);
    if (!m) throw new CliUsageError(`--steady: expected SYMBOLS@RATE (e.g. 300@1000), got "${item}"`);
    return { symbols: positiveInt('steady symbols', m[1], 0), rate: positiveInt('steady rate', m[2], 0) };
  });
  if (!runs.length) throw new CliUsageError('--steady: give at least one SYMBOLS@RATE');
  return runs;
}

export async function benchCommand(argv: string[], io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean' }, json: { type: 'string' }, symbols: { type: 'string' }, rate: { type: 'string' },
        aggregators: { type: 'string' }, partitions: { type: 'string' }, trades: { type: 'string' }, seconds: { type: 'string' },
        phases: { type: 'string' }, steady: { type: 'string' }, 'steady-seconds': { type: 'string' }, profile: { type: 'string' }, 'use-running': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new CliUsageError(`${(err as Error).message}\n\n${BENCH_HELP}`, { cause: err });
  }
  if (values.help) {
    io.out(BENCH_HELP);
    return 0;
  }
  const quick = values.quick === true;
  const d = defaultOptions(quick);
  let phases = d.phases;
  if (typeof values.phases === 'string') {
    const list = values.phases.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = list.filter((p) => !(PHASES as readonly string[]).includes(p));
    if (bad.length || !list.length) throw new CliUsageError(`--phases: unknown phase(s) ${bad.join(', ')}; choose from ${PHASES.join(', ')}`);
    phases = list as Phase[];
  }
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const report = await runBench({
    ...d,
    phases,
    symbols: positiveInt('symbols', str('symbols'), d.symbols),
    rate: positiveInt('rate', str('rate'), d.rate),
    aggregators: positiveInt('aggregators', str('aggregators'), d.aggregators),
    partitions: positiveInt('partitions', str('partitions'), d.partitions),
    trades: positiveInt('trades', str('trades'), d.trades),
    latencySeconds: positiveInt('seconds', str('seconds'), d.latencySeconds),
    steadyRuns: str('steady') === undefined ? d.steadyRuns : parseSteadyRuns(str('steady') as string),
    steadySeconds: positiveInt('steady-seconds', str('steady-seconds'), d.steadySeconds),
    useRunning: values['use-running'] === true,
    ...(str('profile') ? { profileDir: str('profile') } : {}),
    say: io.out,
  });
  io.out(`\n${renderReport(report)}`);
  const json = str('json');
  if (json) {
    writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
    io.out(`report written to ${json}`);
  }
  return 0;
}
