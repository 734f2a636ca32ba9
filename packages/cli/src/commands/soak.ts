import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { acquireStack, DEFAULT_RSS_BOUND, parseDuration, renderSoak, runSoak } from '@cvd/bench';
import { CliUsageError } from '../env.js';
import { parsePositiveInt as positiveInt } from './data-args.js';

export const SOAK_HELP = `Usage: cvd soak [options]

Runs the whole pipeline — the simulator's synthetic market through config, ingest, the
aggregator, Kafka, QuestDB and the web service with one live chart — for a set time, with
ingest rotating its connections and the simulated exchange dropping connections at random
moments (a third of them without a close frame). Then checks that the bar table equals the
ground truth, every bar and column, and that no service's RSS grew past its bound after the
warm-up (bound = the warm-up level × (1 + pct/100) + MB). Exit 0 when both hold, 1 otherwise.
Uses a throw-away Kafka + QuestDB on free ports unless --use-running. See docs/BENCHMARKS.md.

Options:
  --duration D         how long the feed runs: 90s, 10m, 2h (default 10m, the CI size;
                       the documented long run is 2h)
  --rate R             aggTrades/s over all symbols (default 1000)
  --symbols N          symbols over spot, USD-M and COIN-M (default 300)
  --rotation D         ingest's planned connection rotation, INGEST_CONNECTION_LIFETIME
                       (default 3m)
  --disconnect-mean D  mean time between random disconnects (default 90s)
  --horizon D          the aggregator's revision horizon (default 10m for runs of 1h or more,
                       2m for shorter ones so its state plateaus early)
  --warmup D           not judged for memory (default: horizon + 3m or 30 % of the run,
                       whichever is longer, at most 15m)
  --rss-pct P          RSS bound: percent over the warm-up level (default ${DEFAULT_RSS_BOUND.pct})
  --rss-mb M           RSS bound: MB over that (default ${DEFAULT_RSS_BOUND.mb})
  --seed N             market and disconnect schedule seed (default 7)
  --json FILE          also write the full result as JSON
  --use-running        use the stack of \`cvd stack up\` (own soak.* topics and table)
`;

function duration(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parseDuration(v);
  } catch (err) {
    throw new CliUsageError(`--${name}: ${(err as Error).message}`);
  }
}

export async function soakCommand(argv: string[], io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string' }, rate: { type: 'string' }, symbols: { type: 'string' }, rotation: { type: 'string' },
        'disconnect-mean': { type: 'string' }, horizon: { type: 'string' }, warmup: { type: 'string' }, 'rss-pct': { type: 'string' },
        'rss-mb': { type: 'string' }, seed: { type: 'string' }, json: { type: 'string' }, 'use-running': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new CliUsageError(`${(err as Error).message}\n\n${SOAK_HELP}`, { cause: err });
  }
  if (values.help) {
    io.out(SOAK_HELP);
    return 0;
  }
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const durationMs = duration('duration', str('duration')) ?? 10 * 60_000;
  const horizonMs = duration('horizon', str('horizon'));
  const warmupMs = duration('warmup', str('warmup'));
  const rotationMs = duration('rotation', str('rotation'));
  const disconnectMeanMs = duration('disconnect-mean', str('disconnect-mean'));
  const rssPct = str('rss-pct') === undefined ? DEFAULT_RSS_BOUND.pct : Number(str('rss-pct'));
  if (!(rssPct >= 0)) throw new CliUsageError(`--rss-pct must be a number ≥ 0, got "${str('rss-pct')}"`);
  const rssMb = positiveInt('rss-mb', str('rss-mb'), DEFAULT_RSS_BOUND.mb);
  const rate = positiveInt('rate', str('rate'), 1000);
  const symbols = positiveInt('symbols', str('symbols'), 300);
  const seed = positiveInt('seed', str('seed'), 7);
  const { ref, owned } = await acquireStack({ useRunning: values['use-running'] === true, say: io.out });
  const stopOnSignal = (): void => void owned?.stop().finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  try {
    const result = await runSoak({
      stack: ref,
      durationMs,
      rate,
      symbols,
      seed,
      rssBound: { pct: rssPct, mb: rssMb },
      ...(rotationMs ? { rotationMs } : {}),
      ...(disconnectMeanMs ? { disconnectMeanMs } : {}),
      ...(horizonMs ? { horizonMs } : {}),
      ...(warmupMs ? { warmupMs } : {}),
      say: io.out,
    });
    io.out(`\n${renderSoak(result)}`);
    const json = str('json');
    if (json) {
      writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
      io.out(`result written to ${json}`);
    }
    return result.ok ? 0 : 1;
  } finally {
    process.removeListener('SIGINT', stopOnSignal);
    if (owned) {
      io.out('stopping the throw-away stack…');
      await owned.stop();
    }
  }
}
