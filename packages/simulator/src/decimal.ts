/** Small exact-decimal helpers for grids (tick/step sizes); BigInt, never floats, for values. */

const DECIMAL_RE = /^\d+(?:\.\d+)?$/;

export function isDecimalString(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL_RE.test(value);
}

export function decimalPlaces(value: string): number {
  const dot = value.indexOf('.');
  return dot < 0 ? 0 : value.length - dot - 1;
}

/** `"0.0100"` -> { units: 100n, scale: 4 } */
export function parseScaled(value: string): { units: bigint; scale: number } {
  const scale = decimalPlaces(value);
  return { units: BigInt(value.replace('.', '')), scale };
}

/** Formats `units * 10^-scale` with exactly `decimals` places (decimals >= scale). */
export function formatScaled(units: bigint, scale: number, decimals: number): string {
  const widened = decimals > scale ? units * 10n ** BigInt(decimals - scale) : units;
  const d = decimals > scale ? decimals : scale;
  const neg = widened < 0n;
  const digits = (neg ? -widened : widened).toString().padStart(d + 1, '0');
  const body = d === 0 ? digits : `${digits.slice(0, digits.length - d)}.${digits.slice(digits.length - d)}`;
  return neg ? `-${body}` : body;
}

/** Smallest grid unit for `decimals` places, e.g. 2 -> "0.01". */
export function unitForDecimals(decimals: number): string {
  return decimals <= 0 ? '1' : `0.${'0'.repeat(decimals - 1)}1`;
}

/** `n` grid steps of `step` (a decimal string), formatted with `decimals` places. */
export function gridValue(n: number, step: string, decimals: number): string {
  const { units, scale } = parseScaled(step);
  return formatScaled(BigInt(n) * units, scale, Math.max(decimals, scale));
}
