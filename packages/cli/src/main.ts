import { runCommand } from './commands/run.js';
import { simCommand } from './commands/sim.js';
import { stackCommand } from './commands/stack.js';
import { barsCommand } from './commands/bars.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { rebuildCommand } from './commands/rebuild.js';
import { statusCommand } from './commands/status.js';
import { tailCommand } from './commands/tail.js';
import { symbolsCommand } from './commands/symbols.js';
import { benchCommand } from './commands/bench.js';
import { soakCommand } from './commands/soak.js';
import { CliUsageError } from './env.js';

export const HELP = `cvd — real-time CVD pipeline for Binance

Usage: cvd <command> [options]

Commands:
  run [--sim]                  run the whole pipeline (live Binance, or the simulator with --sim)
  stack fetch|up|status|down   run real Kafka and QuestDB natively (no Docker needed)
  sim                          run the bundled Binance simulator (websocket + REST on loopback)
  symbols ls|add|rm [M:S…]     list, add or remove symbols through the config admin API
  bars SYMBOL [--tf TF]        CVD bars of one symbol from QuestDB (1m … 1d)
  export SYMBOL --from --to    one symbol's 1m bars as CSV (legacy or full layout) or Parquet
  import FILE…                 publish data.binance.vision aggTrades dumps (zip/csv) to Kafka
  rebuild --from --to          re-aggregate a range of bars from the trades topic
  tail [M:S…]                  live CVD per symbol in the terminal, from the web service's stream (Ctrl-C to stop)
  status                       components, consumer lag, ingest gaps, last bar per symbol
  bench [--quick]              benchmark the whole pipeline (throughput, latency, CPU, RSS)
  soak [--duration 10m]        run the whole pipeline with rotations and disconnects, then check bars and memory

Run \`cvd <command> --help\` for a command's options.
`;

function hasCode(err: unknown): err is Error & { code: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

/** Runs one CLI invocation; returns the exit code. Errors become one clear line on stderr. */
export async function main(argv: string[], out = (s: string) => console.log(s), errOut = (s: string) => console.error(s)): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'stack':
        return await stackCommand(rest, out);
      case 'sim':
        return await simCommand(rest, out);
      case 'run':
        return await runCommand(rest, out);
      case 'symbols':
        return await symbolsCommand(rest, { out, err: errOut });
      case 'bars':
        return await barsCommand(rest, { out, err: errOut });
      case 'export':
        return await exportCommand(rest, { out, err: errOut });
      case 'import':
        return await importCommand(rest, { out, err: errOut });
      case 'rebuild':
        return await rebuildCommand(rest, { out, err: errOut });
      case 'tail':
        return await tailCommand(rest, { out, err: errOut });
      case 'status':
        return await statusCommand(rest, { out, err: errOut });
      case 'bench':
        return await benchCommand(rest, { out, err: errOut });
      case 'soak':
        return await soakCommand(rest, { out, err: errOut });
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        out(HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new CliUsageError(`unknown command "${command}"; run \`cvd --help\``);
    }
  } catch (err) {
    if (err instanceof CliUsageError) {
      errOut(`cvd: ${err.message}`);
      return 2;
    }
    if (hasCode(err)) {
      // Typed errors (StackError and friends) carry a complete one-line message.
      errOut(err.message.startsWith('cvd') ? err.message : `cvd: ${err.message}`);
      return 1;
    }
    errOut(`cvd: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}
