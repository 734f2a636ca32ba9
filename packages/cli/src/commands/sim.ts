import { parseArgs } from 'node:util';
import { startSimulator, type Simulator } from '@cvd/simulator';
import { MARKETS } from '@cvd/core';
import { buildSimOptions, SIM_ARG_SPEC, SIM_OPTIONS_HELP, type SimArgs } from './sim-options.js';
import { CliUsageError } from '../env.js';

export const SIM_HELP = `Usage: cvd sim [options]

Runs the bundled Binance simulator (websocket + REST on 127.0.0.1) until Ctrl-C and prints the
environment that points ingest at it. Live Binance stays the production default.

${SIM_OPTIONS_HELP}
`;

/** The ingest/config variables that point them at a running simulator. */
export function simulatorEnv(sim: Pick<Simulator, 'wsUrl' | 'restUrl'>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of MARKETS) {
    const M = m.toUpperCase();
    env[`BINANCE_${M}_WS_URL`] = sim.wsUrl(m);
    env[`BINANCE_${M}_REST_URL`] = sim.restUrl(m);
  }
  return env;
}

export async function simCommand(argv: string[], out: (s: string) => void, signal?: AbortSignal): Promise<number> {
  let values: SimArgs & { help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { ...SIM_ARG_SPEC, help: { type: 'boolean', short: 'h' } } }) as { values: SimArgs & { help?: boolean } });
  } catch (err) {
    throw new CliUsageError(`${(err as Error).message}\n\n${SIM_HELP}`);
  }
  if (values.help) {
    out(SIM_HELP);
    return 0;
  }
  const sim = await startSimulator(buildSimOptions(values, Date.now()));
  out(`Binance simulator on 127.0.0.1:${sim.port} — point ingest and config at it with:`);
  for (const [k, v] of Object.entries(simulatorEnv(sim))) out(`  export ${k}=${v}`);
  const stats = setInterval(() => {
    const s = sim.stats() as { published?: number };
    out(`  published ${s.published ?? 0} trades`);
  }, 10_000);
  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    signal?.addEventListener('abort', done);
  });
  clearInterval(stats);
  out('stopping the simulator…');
  await sim.stop();
  return 0;
}
