/**
 * Exact decimals as scaled BigInts: `value = units / 10^scale`.
 *
 * Binance sends prices and quantities as decimal strings ("0.35280000", "58"). A `number`
 * cannot hold their sums exactly, so every value stays a scaled BigInt until it is written
 * out. Each value carries its own scale; sums align to the larger scale and products add
 * the scales (`p·q` of two 8-decimal values has scale 16), so nothing is ever rounded.
 */

/** Why a string was not accepted as a decimal. */
export const DECIMAL_PARSE_ERRORS = ['not-a-string', 'empty', 'too-long', 'negative', 'not-decimal'] as const;
export type DecimalParseError = (typeof DECIMAL_PARSE_ERRORS)[number];

/**
 * Longest decimal string accepted (sign included). Binance values are < 30 characters; the
 * cap stops a hostile frame from making us build a megabyte BigInt.
 */
export const MAX_DECIMAL_LENGTH = 64;

export type DecimalParseResult =
  | { readonly ok: true; readonly value: Decimal }
  | { readonly ok: false; readonly error: DecimalParseError };

const UNSIGNED = /^(\d+)(?:\.(\d+))?$/;

const POW10: bigint[] = [1n];
function pow10(n: number): bigint {
  while (POW10.length <= n) POW10.push(POW10[POW10.length - 1]! * 10n);
  return POW10[n]!;
}

/** An immutable exact decimal. Build with {@link parseDecimal} or {@link Decimal.fromUnits}. */
export class Decimal {
  static readonly ZERO = new Decimal(0n, 0);

  private constructor(
    /** Scaled integer value. */
    readonly units: bigint,
    /** Number of fractional digits in `units` (>= 0). */
    readonly scale: number,
  ) {}

  /** `units / 10^scale`; `scale` must be a non-negative integer. */
  static fromUnits(units: bigint, scale: number): Decimal {
    if (!Number.isSafeInteger(scale) || scale < 0) throw new RangeError(`invalid decimal scale ${scale}`);
    return new Decimal(units, scale);
  }

  add(other: Decimal): Decimal {
    if (this.scale === other.scale) return new Decimal(this.units + other.units, this.scale);
    if (this.scale > other.scale) {
      return new Decimal(this.units + other.units * pow10(this.scale - other.scale), this.scale);
    }
    return new Decimal(this.units * pow10(other.scale - this.scale) + other.units, other.scale);
  }

  sub(other: Decimal): Decimal {
    return this.add(other.neg());
  }

  /** Exact product; the result's scale is the sum of both scales. */
  mul(other: Decimal): Decimal {
    return new Decimal(this.units * other.units, this.scale + other.scale);
  }

  neg(): Decimal {
    return this.units === 0n ? this : new Decimal(-this.units, this.scale);
  }

  /** -1, 0 or 1 as `this` is less than, equal to or greater than `other` (by value). */
  cmp(other: Decimal): -1 | 0 | 1 {
    let a = this.units;
    let b = other.units;
    if (this.scale > other.scale) b *= pow10(this.scale - other.scale);
    else if (other.scale > this.scale) a *= pow10(other.scale - this.scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  eq(other: Decimal): boolean {
    return this.cmp(other) === 0;
  }

  isZero(): boolean {
    return this.units === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.units < 0n ? -1 : this.units > 0n ? 1 : 0;
  }

  /** Canonical form: no trailing fractional zeros, no leading zeros, "0" for zero, "-" for negatives. */
  toString(): string {
    if (this.units === 0n) return '0';
    const negative = this.units < 0n;
    let digits = (negative ? -this.units : this.units).toString();
    let text: string;
    if (this.scale === 0) {
      text = digits;
    } else {
      if (digits.length <= this.scale) digits = '0'.repeat(this.scale - digits.length + 1) + digits;
      const intPart = digits.slice(0, digits.length - this.scale);
      const fracPart = digits.slice(digits.length - this.scale).replace(/0+$/, '');
      text = fracPart === '' ? intPart : `${intPart}.${fracPart}`;
    }
    return negative ? `-${text}` : text;
  }

  /** The nearest double (for writing out only — never compute with it). */
  toNumber(): number {
    return Number(this.toString());
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * Strict decimal parser: `^\d+(\.\d+)?$` (with a leading `-` only when `signed`), at most
 * {@link MAX_DECIMAL_LENGTH} characters. Rejects exponents ("1e309"), "NaN", "Infinity",
 * "", "+1", ".5", "5.", whitespace — anything Binance would not send.
 */
export function parseDecimal(text: unknown, options: { readonly signed?: boolean } = {}): DecimalParseResult {
  if (typeof text !== 'string') return { ok: false, error: 'not-a-string' };
  if (text.length === 0) return { ok: false, error: 'empty' };
  if (text.length > MAX_DECIMAL_LENGTH) return { ok: false, error: 'too-long' };
  const negative = text.charCodeAt(0) === 45; /* '-' */
  const body = negative ? text.slice(1) : text;
  const match = UNSIGNED.exec(body);
  if (match === null) return { ok: false, error: 'not-decimal' };
  if (negative && options.signed !== true) return { ok: false, error: 'negative' };
  const intPart = match[1]!;
  const fracPart = match[2] ?? '';
  const units = BigInt(intPart + fracPart);
  return { ok: true, value: Decimal.fromUnits(negative ? -units : units, fracPart.length) };
}

/** Parses or throws a `RangeError` — for constants, tests and trusted trades (checked at a boundary), never for untrusted input. */
export function decimal(text: string, options: { readonly signed?: boolean } = { signed: true }): Decimal {
  const result = parseDecimal(text, options);
  if (!result.ok) throw new RangeError(`not a decimal (${result.error}): ${JSON.stringify(text)}`);
  return result.value;
}
