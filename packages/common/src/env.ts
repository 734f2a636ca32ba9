import { z } from 'zod';
import { ConfigError } from '@cvd/core';
import { LOG_LEVELS } from './logger.js';

/** The shape of `process.env`. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** Variable names whose values are never echoed back in error messages. */
const SECRET_NAME = /(TOKEN|PASSWORD|PASSWD|SECRET|SASL|API_?KEY|PRIVATE_?KEY|AUTH|CREDENTIAL|COOKIE)/i;

/** Whether a variable name looks like it holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Parses the environment once at start-up. On failure throws one {@link ConfigError}
 * (`code: 'invalid-env'`) whose message lists every bad variable, its value (redacted
 * when the name looks secret) and what was expected:
 *
 * ```text
 * Invalid environment (2 variables):
 *   - OPS_PORT="70000": expected a port number 0-65535
 *   - KAFKA_SASL_PASSWORD=<redacted, 3 chars>: expected a non-empty string
 * ```
 *
 * Note (zod 4): `.default(x)` takes the *output* value (`envDuration().default(5_000)`);
 * use `.prefault('5s')` to give a default in the input form.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: EnvSource = process.env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const byVar = new Map<string, string[]>();
  for (const issue of result.error.issues) {
    const name = issue.path.length > 0 ? String(issue.path[0]) : '(environment)';
    const list = byVar.get(name) ?? [];
    list.push(issue.message);
    byVar.set(name, list);
  }
  const lines = [...byVar].map(([name, messages]) => `  - ${name}=${describeValue(name, env[name])}: ${messages.join('; ')}`);
  const plural = byVar.size === 1 ? 'variable' : 'variables';
  throw new ConfigError('invalid-env', `Invalid environment (${byVar.size} ${plural}):\n${lines.join('\n')}`);
}

function describeValue(name: string, value: string | undefined): string {
  if (value === undefined) return '(not set)';
  if (isSecretName(name)) return `<redacted, ${value.length} chars>`;
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
}

/** A TCP port, `0`–`65535` (0 = any free port). */
export function envPort() {
  return z.string({ error: 'expected a port number 0-65535' }).transform((raw, ctx) => {
    const s = raw.trim();
    const n = /^\d{1,5}$/.test(s) ? Number(s) : Number.NaN;
    if (!(n >= 0 && n <= 65_535)) {
      ctx.addIssue({ code: 'custom', message: 'expected a port number 0-65535' });
      return z.NEVER;
    }
    return n;
  });
}

/** A comma-separated list; items are trimmed and empty items dropped. */
export function envList(options: { readonly min?: number } = {}) {
  const min = options.min ?? 0;
  const expected = `expected a comma-separated list${min > 0 ? ` of at least ${min} item${min === 1 ? '' : 's'}` : ''}`;
  return z.string({ error: expected }).transform((raw, ctx) => {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (items.length < min) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return items;
  });
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses `250ms`, `5s`, `1.5s`, `2m`, `1h` (and `0`) into milliseconds; undefined if invalid. */
export function parseDurationMs(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s);
  if (m === null) return undefined;
  const ms = Number(m[1]) * (DURATION_UNITS_MS[m[2] ?? ''] ?? Number.NaN);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** A duration with a unit (`250ms`, `5s`, `2m`, `1h`) → milliseconds. A bare number is rejected: units are never guessed. */
export function envDuration() {
  const expected = 'expected a duration like 250ms, 5s, 2m or 1h';
  return z.string({ error: expected }).transform((raw, ctx) => {
    const ms = parseDurationMs(raw);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return ms;
  });
}

/** `true`/`false`/`1`/`0` (case-insensitive) → boolean. */
export function envBoolean() {
  const expected = 'expected true, false, 1 or 0';
  return z.string({ error: expected }).transform((raw, ctx) => {
    const s = raw.trim().toLowerCase();
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
    ctx.addIssue({ code: 'custom', message: expected });
    return z.NEVER;
  });
}

/** A pino log level. */
export function envLogLevel() {
  return z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` });
}
