/**
 * What the config service accepts as a symbol, from the file and from the admin API.
 *
 * The base rule is the pipeline's (`isSymbol` from @cvd/core: the Kafka key, the stream name
 * and the frame parsers all use it). On top, input that a person
 * typed is held to a stricter deny-list: quotes, `;`, backticks, brackets, `$`, `|`, … never
 * occur in Binance symbols, and letting them through would carry shell/SQL/log injection
 * attempts into every consumer. Non-ASCII symbols (`币安人生USDT`) stay allowed.
 */
import { isMarket, isSymbol, MARKETS, MAX_SYMBOL_LENGTH, type Market } from '@cvd/core';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufffd]/u;
const WHITESPACE = /\s/u;
/** Characters no Binance symbol contains; listed so the message can name the culprit. */
const FORBIDDEN = `:;'"\`\\/@?#&=%$|<>(){}[],!*~^+`;

function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/**
 * Why `value` is not an acceptable symbol, or undefined when it is. `what` names the value in
 * the message; the same rules serve exchangeInfo filter values (`quoteAsset`, `status`, …),
 * which Binance also spells in upper case without punctuation.
 */
export function symbolProblem(value: unknown, what = 'symbol'): string | undefined {
  if (typeof value !== 'string') {
    const got = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a map' : `${typeof value} ${String(value)}`;
    return `expected a ${what} string, got ${got}`;
  }
  if (value.length === 0) return `${what} is empty`;
  if ([...value].length > MAX_SYMBOL_LENGTH) return `${what} ${quote(value)} is longer than ${MAX_SYMBOL_LENGTH} characters`;
  if (CONTROL.test(value)) return `${what} ${quote(value)} contains a control or invisible character`;
  if (WHITESPACE.test(value)) return `${what} ${quote(value)} contains whitespace`;
  const bad = [...value].find((c) => FORBIDDEN.includes(c));
  if (bad !== undefined) return `${what} ${quote(value)} contains the forbidden character ${JSON.stringify(bad)}`;
  if (/[a-z]/.test(value)) {
    return `${what} ${quote(value)} has lower-case letters; Binance spells it in upper case (did you mean ${quote(value.toUpperCase())}?)`;
  }
  // Belt and braces: the pipeline's rule must hold as well.
  if (!isSymbol(value)) return `${what} ${quote(value)} is not valid`;
  return undefined;
}

/** Why `value` is not a market, or undefined when it is one. */
export function marketProblem(value: unknown): string | undefined {
  if (isMarket(value)) return undefined;
  const shown = typeof value === 'string' ? quote(value) : String(value);
  return `unknown market ${shown} (expected one of ${MARKETS.join(', ')})`;
}

export function asMarket(value: string): Market | undefined {
  return isMarket(value) ? value : undefined;
}
