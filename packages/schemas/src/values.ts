/**
 * Value rules of the records that are the codec's own. The trade's rules (markets, the
 * symbol, ids, decimals) are the pipeline's and live in `@cvd/core`.
 */
import { MAX_COUNT } from '@cvd/core';

/** Signed decimal (a CVD anchor can be negative). */
const SIGNED_DECIMAL = /^-?\d+(?:\.\d+)?$/;

export function isSignedDecimal(value: unknown): value is string {
  return typeof value === 'string' && SIGNED_DECIMAL.test(value);
}

/**
 * Largest long avsc encodes and decodes as a JS number: 2^53 − 2 (it keeps one value of
 * headroom below `Number.MAX_SAFE_INTEGER`). The same bound as the core's `isCount`.
 */
export const MAX_LONG = MAX_COUNT;
