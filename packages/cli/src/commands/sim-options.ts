import { isMarket, MARKETS, type Market } from '@cvd/core';
import type { Fault, PaceOptions, SimulatorOptions, SourceSpec } from '@cvd/simulator';
import { CliUsageError } from '../env.js';

/** What `cvd sim` and `cvd run --sim` accept, before it becomes SimulatorOptions. */
export interface SimArgs {
  port?: string;
  symbols?: string;
  markets?: string;
  seed?: string;
  speed?: string;
  fast?: boolean;
  file?: string[];
  market?: string;
  symbol?: string;
  fault?: string[];
  'start-time'?: string;
  lifetime?: string;
  'trades-per-symbol'?: string;
  'start-now'?: boolean;
}

export const SIM_ARG_SPEC = {
  port: { type: 'string' },
  symbols: { type: 'string' },
  markets: { type: 'string' },
  seed: { type: 'string' },
  speed: { type: 'string' },
  fast: { type: 'boolean' },
  file: { type: 'string', multiple: true },
  market: { type: 'string' },
  symbol: { type: 'string' },
  fault: { type: 'string', multiple: true },
  'start-time': { type: 'string' },
  lifetime: { type: 'string' },
  'trades-per-symbol': { type: 'string' },
  'start-now': { type: 'boolean' },
} as const;

export const SIM_OPTIONS_HELP = `Simulator options:
  --symbols N            synthetic symbols per market (default 25)
  --markets a,b          synthetic markets (default spot,usdm; also coinm)
  --seed S               synthetic market seed (default 1): same seed, same trades
  --start-time T         trade time of the first synthetic trade (ISO or epoch ms; default: now)
  --trades-per-symbol N  stop each synthetic symbol after N trades (default: endless)
  --file F               replay a data.binance.vision aggTrades CSV/ZIP or JSONL of ws frames
                         (repeatable); needs --market, and --symbol for CSV (else from the name)
  --speed X              replay at X times real time (default 1 = real time)
  --fast                 as fast as the client reads
  --start-now            start the trades at once; by default they start when the first
                         client subscribes to an aggTrade stream, so a client connecting
                         after start-up still gets every trade (--fast, --trades-per-symbol)
  --port P               simulator port (default 0 = any free port)
  --lifetime D           forced connection lifetime, e.g. 2m (default 24h, as Binance)
  --fault F              fault, repeatable: disconnect-every=N, skip-every=N, duplicate=P,
                         reorder=W, malformed-every=N, silence=DURATION, rest-refuse=FROM-TO`;

function int(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new CliUsageError(`--${name} expects a whole number >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

export function parseDuration(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw.trim());
  if (!m) throw new CliUsageError(`--${name} expects a duration like 500ms, 30s, 2m or 24h, got ${JSON.stringify(raw)}`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h']);
}

export function parseFault(raw: string): Fault {
  const [kind, value = ''] = raw.split('=', 2);
  const num = (what: string): number => {
    const n = Number(value);
    if (!(n > 0)) throw new CliUsageError(`--fault ${kind}=N expects a positive number (${what}), got ${JSON.stringify(value)}`);
    return n;
  };
  switch (kind) {
    case 'disconnect-every':
      return { kind: 'disconnect-every', frames: num('frames') };
    case 'skip-every':
      return { kind: 'skip', every: num('trades') };
    case 'duplicate':
      return { kind: 'duplicate', probability: Math.min(1, num('probability')) };
    case 'reorder':
      return { kind: 'reorder', window: Math.max(2, num('window')) };
    case 'malformed-every':
      return { kind: 'malformed', variant: 'invalid-json', every: num('frames') };
    case 'silence':
      return { kind: 'silence', durationMs: parseDuration('fault silence', value) };
    case 'rest-refuse': {
      const m = /^(\d+)-(\d+)$/.exec(value);
      if (!m) throw new CliUsageError('--fault rest-refuse=FROM-TO expects an agg id range like 1000-1010');
      return { kind: 'rest-refuse', fromId: Number(m[1]), toId: Number(m[2]) };
    }
    default:
      throw new CliUsageError(`unknown --fault ${JSON.stringify(kind)}; one of disconnect-every, skip-every, duplicate, reorder, malformed-every, silence, rest-refuse`);
  }
}

function parseStartTime(raw: string | undefined, now: number): number {
  if (raw === undefined) return now - (now % 1000);
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n)) throw new CliUsageError(`--start-time expects an ISO date or epoch ms, got ${JSON.stringify(raw)}`);
  return n;
}

function fileSource(path: string, market: Market, symbol: string | undefined): SourceSpec {
  if (/\.jsonl?$/i.test(path)) return { kind: 'jsonl', market, path };
  const sym = symbol ?? /([A-Z0-9_]+)-aggTrades-/i.exec(path.split('/').pop() ?? '')?.[1];
  if (!sym) throw new CliUsageError(`cannot tell the symbol of ${path}; pass --symbol`);
  return { kind: 'csv', market, symbol: sym.toUpperCase(), path };
}

/** Turns CLI arguments into simulator options. Pure: `now` comes in. */
export function buildSimOptions(a: SimArgs, now: number): SimulatorOptions {
  let pace: PaceOptions = { mode: 'realtime' };
  if (a.fast) pace = { mode: 'fast' };
  else if (a.speed !== undefined) {
    const f = Number(a.speed);
    if (!(f > 0)) throw new CliUsageError(`--speed expects a positive factor, got ${JSON.stringify(a.speed)}`);
    pace = f === 1 ? { mode: 'realtime' } : { mode: 'speed', factor: f };
  }
  const sources: SourceSpec[] = [];
  if (a.file?.length) {
    if (!a.market || !isMarket(a.market)) throw new CliUsageError('--file needs --market spot|usdm|coinm');
    for (const f of a.file) sources.push(fileSource(f, a.market as Market, a.symbol));
  } else {
    const markets = (a.markets ?? 'spot,usdm').split(',').map((m) => m.trim()).filter(Boolean);
    for (const m of markets) if (!isMarket(m)) throw new CliUsageError(`--markets: unknown market ${JSON.stringify(m)} (spot, usdm, coinm)`);
    const n = int('symbols', a.symbols, 25, 1);
    const perSymbol = a['trades-per-symbol'] === undefined ? undefined : int('trades-per-symbol', a['trades-per-symbol'], 0, 1);
    sources.push({
      kind: 'synthetic',
      seed: int('seed', a.seed, 1),
      startTime: parseStartTime(a['start-time'], now),
      counts: Object.fromEntries(markets.map((m) => [m, n])),
      ...(perSymbol ? { tradesPerSymbol: perSymbol } : {}),
    });
  }
  const lifetime = a.lifetime === undefined ? undefined : parseDuration('lifetime', a.lifetime);
  return {
    port: int('port', a.port, 0),
    sources,
    pace,
    start: a['start-now'] ? 'immediate' : 'first-subscriber',
    faults: (a.fault ?? []).map(parseFault),
    ...(lifetime ? { markets: Object.fromEntries(MARKETS.map((m) => [m, { connectionLifetimeMs: lifetime }])) } : {}),
  };
}
