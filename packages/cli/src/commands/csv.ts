/**
 * CSV formatting for `cvd export`.
 *
 * Layouts:
 * - `legacy` — the old monitor's per-symbol file, one row per minute:
 *   `timestamp,symbol,cvd,buy_volume,sell_volume,delta`; `timestamp` is the minute's open in
 *   ISO 8601 UTC (`2024-05-01T12:00:00Z`), `cvd` the closing CVD of the minute and `delta`
 *   buy − sell, both exact decimals (from `cvd_close_exact`/`delta_exact`); the volumes are the
 *   table's DOUBLEs printed in plain decimal notation (never `1e-8`).
 * - `full` — every column of the bar table, in table order, under its own name; timestamps as
 *   QuestDB returns them (ISO 8601 UTC, microseconds), booleans `true`/`false`, empty = null.
 *
 * RFC 4180: comma separated, `\n` line ends, a field is quoted when it holds a comma, quote,
 * CR/LF or leading/trailing space. UTF-8 without BOM.
 */

export const LAYOUTS = ['legacy', 'full'] as const;
export type Layout = (typeof LAYOUTS)[number];

export const LEGACY_HEADER = ['timestamp', 'symbol', 'cvd', 'buy_volume', 'sell_volume', 'delta'] as const;

export function csvField(v: string): string {
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\n`;
}

/** A double in plain decimal notation: the shortest round-trip digits, no exponent. */
export function plainNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const s = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([-+]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, lead, frac = '', expText] = m;
  const digits = `${lead}${frac}`;
  const exp = Number(expText);
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  return intLen >= digits.length ? `${sign}${digits}${'0'.repeat(intLen - digits.length)}` : `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return plainNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

/** `2024-05-01T12:00:00.000000Z` (or epoch ms) → `2024-05-01T12:00:00Z`. */
export function isoSecond(v: unknown): string {
  const ms = typeof v === 'number' ? v : Date.parse(String(v));
  if (!Number.isFinite(ms)) return String(v);
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

export function legacyRow(r: Record<string, unknown>): string[] {
  const exactOr = (exact: unknown, dbl: unknown): string => (typeof exact === 'string' && exact !== '' ? exact : cellText(dbl));
  return [isoSecond(r.ts), String(r.symbol ?? ''), exactOr(r.cvd_close_exact, r.cvd_close), cellText(r.buy_volume), cellText(r.sell_volume), exactOr(r.delta_exact, r.delta)];
}

export function fullRow(columns: readonly string[], row: readonly unknown[]): string[] {
  return columns.map((_, i) => cellText(row[i]));
}
