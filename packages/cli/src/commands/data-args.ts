import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CvdError, isMarket, isSymbol, MAX_SYMBOL_LENGTH, type Market } from '@cvd/core';
import { CliUsageError } from '../env.js';

export const CLI_FAILURE_CODES = [
  /** Kafka or QuestDB did not answer: running the command again once it is up may work. */
  'unreachable',
  /** The server answered but refused (missing topic, rejected query, old QuestDB). */
  'failed',
] as const;
export type CliFailureCode = (typeof CLI_FAILURE_CODES)[number];

/** A failure that is not the user's typing (a server down, a missing topic): exit status 1, one line. */
export class CliFailure extends CvdError<CliFailureCode> {
  constructor(code: CliFailureCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(code, message, { cause: options.cause, retriable: code === 'unreachable' });
  }
}

/** `parseArgs` with usage errors that carry the command's help. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
  help: string,
  allowPositionals = true,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return { values: r.values as Record<string, string | boolean | string[] | undefined>, positionals: r.positionals };
  } catch (err) {
    throw new CliUsageError(`${(err as Error).message}\n\n${help}`, { cause: err });
  }
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * A point in time for --from/--to: ISO 8601 (`2024-05-01`, `2024-05-01T12:00`, with or
 * without `Z` — a time without an offset is UTC), epoch milliseconds, `now`, or relative to
 * now: `-30m`, `now-2h`, `-1d`.
 */
export function parseTime(name: string, raw: string, now: number): number {
  const s = raw.trim();
  const rel = /^(?:now)?\s*-\s*(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s);
  if (s === 'now') return now;
  if (rel) return now - Math.round(Number(rel[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'ms' | 's' | 'm' | 'h' | 'd']);
  if (/^\d{10,16}$/.test(s)) {
    const n = Number(s);
    if (s.length === 10) return n * 1000; // epoch seconds
    if (s.length >= 15) return Math.floor(n / 1000); // epoch microseconds
    return n;
  }
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (iso) {
    const withTime = `${iso[1]}T${iso[2] ?? '00:00'}`;
    const t = Date.parse(`${withTime}${iso[3] ?? 'Z'}`);
    if (Number.isFinite(t)) return t;
  }
  throw new CliUsageError(`--${name} expects an ISO time (2024-05-01T12:00Z, UTC when no offset), epoch ms, now or -30m/-2h/-1d, got ${JSON.stringify(raw)}`);
}

export const MINUTE_MS = 60_000;

export function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16) + ':00Z';
}

/** `usdm:BTCUSDT` (or `BTCUSDT` with a default market) → parts; the symbol is upper-cased ASCII-wise only if asked. */
export function parseMarketSymbol(raw: string, defaultMarket?: string): { market: Market; symbol: string } {
  const i = raw.indexOf(':');
  const market = i >= 0 ? raw.slice(0, i) : defaultMarket;
  const symbol = i >= 0 ? raw.slice(i + 1) : raw;
  if (market === undefined) throw new CliUsageError(`${JSON.stringify(raw)}: expected MARKET:SYMBOL, e.g. usdm:BTCUSDT`);
  if (!isMarket(market)) throw new CliUsageError(`${JSON.stringify(raw)}: unknown market ${JSON.stringify(market)} (spot, usdm, coinm)`);
  checkSymbol(symbol);
  return { market, symbol };
}

/** The pipeline's symbol rule (it also keeps out what has no business in a SQL literal or a file name). */
export function checkSymbol(symbol: string): string {
  if (!isSymbol(symbol)) {
    throw new CliUsageError(`invalid symbol ${JSON.stringify(symbol)}: 1–${MAX_SYMBOL_LENGTH} characters without whitespace, control characters, quotes or any of @/?#&=%:\\`);
  }
  return symbol;
}

export function parsePositiveInt(name: string, raw: string | undefined, fallback: number, max = 1_000_000): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new CliUsageError(`--${name} expects a whole number 1–${max}, got ${JSON.stringify(raw)}`);
  return n;
}

/** A SQL string literal for QuestDB: single quotes doubled; NUL refused. */
export function sqlString(value: string): string {
  if (value.includes('\u0000')) throw new CliUsageError('a NUL character cannot appear in a query value');
  return `'${value.replace(/'/g, "''")}'`;
}

/** A SQL timestamp literal from epoch ms. */
export function sqlTimestamp(ms: number): string {
  if (!Number.isFinite(ms)) throw new CliUsageError(`not a time: ${ms}`);
  return `'${new Date(ms).toISOString()}'`;
}

/** QuestDB returns timestamps as `2024-05-01T12:00:00.000000Z`; epoch ms from that. */
export function tsMs(v: unknown): number {
  if (typeof v === 'number') return v;
  return Date.parse(String(v));
}

/** A plain text table: right-aligned numbers, left-aligned text, two spaces between columns. */
export function formatTable(header: string[], rows: (string | number | boolean | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => cells.length > 0 && cells.every((r) => r[i] === '' || /^-?[\d.]+(e[-+]?\d+)?$/i.test(r[i] ?? '')));
  const line = (r: string[]): string =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** A number for a terminal table: up to `digits` decimals, no exponent for ordinary values. */
export function fmtNum(v: unknown, digits = 8): string {
  if (v === null || v === undefined) return '';
  const n = Number(v);
  if (!Number.isFinite(n)) return String(v);
  if (Number.isInteger(n)) return String(n);
  return Number(n.toFixed(digits)).toString();
}

export interface Io {
  out: (s: string) => void;
  /** Progress and diagnostics (stderr). */
  err: (s: string) => void;
}

/** A duration for people: 42s, 5m, 3h, 12d. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}
