import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Decimal, MAX_DECIMAL_LENGTH, decimal, parseDecimal } from './decimal.js';
import { seededRandom } from '@cvd/core';

/** Deterministic PRNG (mulberry32) so the million-value test is reproducible. */
const mulberry32 = seededRandom;

/** Independent formatter: divide/modulo instead of string slicing. */
function refFormat(units: bigint, scale: number): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const base = 10n ** BigInt(scale);
  const intPart = abs / base;
  let frac = scale === 0 ? '' : (abs % base).toString().padStart(scale, '0');
  while (frac.endsWith('0')) frac = frac.slice(0, -1);
  const text = frac === '' ? intPart.toString() : `${intPart}.${frac}`;
  return negative && text !== '0' ? `-${text}` : text;
}

describe('parseDecimal', () => {
  it('accepts Binance decimal strings and formats them canonically', () => {
    const cases: Array<[string, string]> = [
      ['0.35280000', '0.3528'],
      ['58', '58'],
      ['0', '0'],
      ['0.00000000', '0'],
      ['007.50', '7.5'],
      ['0.00000001', '0.00000001'],
      ['123456789012345678901234567890.123456789', '123456789012345678901234567890.123456789'],
    ];
    for (const [input, canonical] of cases) {
      const r = parseDecimal(input);
      assert.ok(r.ok, input);
      assert.equal(r.value.toString(), canonical);
    }
  });

  it('rejects everything that is not ^\\d+(\\.\\d+)?$ with a reason', () => {
    const cases: Array<[unknown, string]> = [
      ['1e309', 'not-decimal'],
      ['NaN', 'not-decimal'],
      ['Infinity', 'not-decimal'],
      ['', 'empty'],
      ['-0', 'negative'],
      ['-1.5', 'negative'],
      ['+1', 'not-decimal'],
      ['.5', 'not-decimal'],
      ['5.', 'not-decimal'],
      [' 1', 'not-decimal'],
      ['1 ', 'not-decimal'],
      ['0x10', 'not-decimal'],
      ['1,5', 'not-decimal'],
      ['1.2.3', 'not-decimal'],
      ['--1', 'not-decimal'],
      ['١٢', 'not-decimal'], // non-ASCII digits
      ['1'.repeat(MAX_DECIMAL_LENGTH + 1), 'too-long'],
      [1.5, 'not-a-string'],
      [null, 'not-a-string'],
      [undefined, 'not-a-string'],
    ];
    for (const [input, error] of cases) {
      const r = parseDecimal(input);
      assert.equal(r.ok, false, String(input));
      if (!r.ok) assert.equal(r.error, error, String(input));
    }
    assert.ok(parseDecimal('1'.repeat(MAX_DECIMAL_LENGTH)).ok);
  });

  it('accepts a sign only when asked, and "-0" is zero', () => {
    assert.equal(decimal('-0').toString(), '0');
    assert.equal(decimal('-1.50').toString(), '-1.5');
    assert.equal(decimal('-0.0001').toString(), '-0.0001');
    const r = parseDecimal('-abc', { signed: true });
    assert.ok(!r.ok && r.error === 'not-decimal');
  });
});

describe('Decimal arithmetic', () => {
  const units = fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n });
  const scale = fc.integer({ min: 0, max: 18 });

  it('add/sub/mul/cmp agree with a BigInt reference at a common scale', () => {
    fc.assert(
      fc.property(units, scale, units, scale, (ua, sa, ub, sb) => {
        const a = Decimal.fromUnits(ua, sa);
        const b = Decimal.fromUnits(ub, sb);
        const s = Math.max(sa, sb);
        const xa = ua * 10n ** BigInt(s - sa);
        const xb = ub * 10n ** BigInt(s - sb);
        assert.equal(a.add(b).toString(), refFormat(xa + xb, s));
        assert.equal(a.sub(b).toString(), refFormat(xa - xb, s));
        assert.equal(a.mul(b).toString(), refFormat(ua * ub, sa + sb));
        assert.equal(a.cmp(b), xa < xb ? -1 : xa > xb ? 1 : 0);
        assert.equal(a.neg().add(a).isZero(), true);
      }),
      { numRuns: 2000 },
    );
  });

  it('formats canonically and round-trips through the signed parser', () => {
    fc.assert(
      fc.property(units, scale, (u, s) => {
        const d = Decimal.fromUnits(u, s);
        const text = d.toString();
        assert.equal(text, refFormat(u, s));
        assert.match(text, /^(0|-?(0|[1-9]\d*)(\.\d*[1-9])?)$/);
        assert.ok(decimal(text).eq(d));
        assert.equal(decimal(text).toString(), text);
      }),
      { numRuns: 2000 },
    );
  });

  it('toNumber gives the nearest double', () => {
    assert.equal(decimal('0.1').add(decimal('0.2')).toNumber(), 0.3);
    assert.equal(decimal('-12.5').toNumber(), -12.5);
    assert.equal(decimal('0').toNumber(), 0);
  });

  it('sums 1,000,000 random 8-decimal quantities exactly', () => {
    const random = mulberry32(0xc0ffee);
    // Independent reference: integer and 8-digit fractional parts summed separately as
    // plain numbers (both stay far below 2^53), then carried — no BigInt, no parser.
    let intSum = 0;
    let fracSum = 0;
    let sum = Decimal.ZERO;
    for (let i = 0; i < 1_000_000; i++) {
      const intPart = Math.floor(random() * 100_000);
      const frac = Math.floor(random() * 100_000_000);
      intSum += intPart;
      fracSum += frac;
      let fracText = String(frac).padStart(8, '0');
      // Vary the spelling the way Binance and other sources do: padded, trimmed, integer.
      const style = i % 3;
      if (style === 1) fracText = fracText.replace(/0+$/, '');
      const text = fracText === '' ? String(intPart) : `${intPart}.${fracText}`;
      const parsed = parseDecimal(text);
      assert.ok(parsed.ok);
      sum = sum.add(parsed.value);
    }
    const carry = Math.floor(fracSum / 100_000_000);
    const expectedFrac = String(fracSum % 100_000_000).padStart(8, '0').replace(/0+$/, '');
    const expectedInt = String(intSum + carry);
    const expected = expectedFrac === '' ? expectedInt : `${expectedInt}.${expectedFrac}`;
    assert.equal(sum.toString(), expected);
    // The float sum is not exact — the reason the engine never uses one.
    assert.notEqual(Number(expected).toString(), expected);
  });
});
