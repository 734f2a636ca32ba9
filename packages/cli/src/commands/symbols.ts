import { CvdError } from '@cvd/core';
import { CliUsageError } from '../env.js';
import { formatTable, parseCommandArgs, parseMarketSymbol, type Io } from './data-args.js';
import { DATA_ENV_HELP, parseDataEnv } from './data-env.js';

export const SYMBOLS_HELP = `Usage: cvd symbols ls [--all] [--market M] [--json]
       cvd symbols add MARKET:SYMBOL…
       cvd symbols rm MARKET:SYMBOL…

Lists, adds or removes the pipeline's symbols through the config service's admin API
(bearer token CONFIG_ADMIN_TOKEN; \`ls\` works without one). \`add\` makes the symbols API claims
(they stay when the file drops them); \`rm\` of a symbol the file lists disables it.

  --market M   ls: only this market (spot, usdm, coinm)
  --all        ls: also list disabled (removed through the API) symbols
  --json       ls: the admin API's JSON instead of a table

${DATA_ENV_HELP}
`;

export const ADMIN_API_ERROR_CODES = [
  /** No answer (service down, wrong CONFIG_ADMIN_URL): may work once the service is up. */
  'unreachable',
  /** 401: the token is wrong. */
  'unauthorized',
  /** 503 on a change: the service runs without an admin token. */
  'not-configured',
  /** Another 4xx: the request itself was refused. */
  'rejected',
  /** Another 5xx: the service failed; trying later may work. */
  'server-error',
] as const;
export type AdminApiErrorCode = (typeof ADMIN_API_ERROR_CODES)[number];

/** A failed call to the config service's admin API; the message is the one line the user sees. */
export class AdminApiError extends CvdError<AdminApiErrorCode> {
  constructor(code: AdminApiErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(code, message, { cause: options.cause, retriable: code === 'unreachable' || code === 'server-error' });
  }
}

interface SymbolEntry {
  market: string;
  symbol: string;
  enabled: boolean;
  source: string;
  sources?: string[];
}

async function call(method: string, url: string, token: string | undefined, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, { method, headers, signal: AbortSignal.timeout(20_000), ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (err) {
    throw new AdminApiError('unreachable', `config admin API at ${new URL(url).origin} is unreachable (${(err as Error).message}); is the config service running? (CONFIG_ADMIN_URL)`, { cause: err });
  }
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = { message: text.slice(0, 200) };
  }
  if (res.status === 401) throw new AdminApiError('unauthorized', 'the config admin API refused the token (401): set CONFIG_ADMIN_TOKEN to the service\'s token');
  if (res.status === 503 && method !== 'GET') throw new AdminApiError('not-configured', `the config service has no admin token configured (503): ${String(json.message ?? 'set CONFIG_ADMIN_TOKEN on the service')}`);
  if (res.status >= 400) throw new AdminApiError(res.status >= 500 ? 'server-error' : 'rejected', `config admin API: ${method} ${new URL(url).pathname} failed (${res.status}): ${String(json.message ?? json.error ?? text.slice(0, 200))}`);
  return { status: res.status, json };
}

export async function symbolsCommand(argv: string[], io: Io, envSource: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { all: { type: 'boolean' }, market: { type: 'string' }, json: { type: 'boolean' } }, SYMBOLS_HELP);
  if (values.help) {
    io.out(SYMBOLS_HELP);
    return 0;
  }
  const [sub, ...args] = positionals;
  const env = parseDataEnv(envSource);
  switch (sub) {
    case 'ls':
    case 'list': {
      if (args.length) throw new CliUsageError('symbols ls takes no symbols (use --market)');
      const { json } = await call('GET', `${env.adminUrl}/symbols`, env.adminToken);
      if (values.json) {
        io.out(JSON.stringify(json, null, 2));
        return 0;
      }
      const market = typeof values.market === 'string' ? values.market : undefined;
      const list = ((json.symbols ?? []) as SymbolEntry[])
        .filter((s) => (values.all ? true : s.enabled) && (market ? s.market === market : true))
        .sort((a, b) => a.market.localeCompare(b.market) || a.symbol.localeCompare(b.symbol));
      io.out(formatTable(['market', 'symbol', 'enabled', 'source', 'sources'], list.map((s) => [s.market, s.symbol, s.enabled ? 'yes' : 'no', s.source, (s.sources ?? []).join(',')])));
      const file = json.file as { path?: string; valid?: boolean; errors?: string[] } | undefined;
      io.out(`${list.length} symbol${list.length === 1 ? '' : 's'}${file?.path ? `; file ${file.path} ${file.valid === false ? `INVALID (${(file.errors ?? []).length} errors)` : 'valid'}` : ''}`);
      return 0;
    }
    case 'add': {
      if (args.length === 0) throw new CliUsageError('symbols add needs at least one MARKET:SYMBOL');
      const entries = args.map((a) => parseMarketSymbol(a));
      if (!env.adminToken) throw new CliUsageError('symbols add needs CONFIG_ADMIN_TOKEN (the config service\'s admin token)');
      const { status, json } = await call('POST', `${env.adminUrl}/symbols`, env.adminToken, entries);
      const added = (json.added ?? []) as string[];
      const unchanged = (json.unchanged ?? []) as string[];
      io.out(`${status === 202 ? 'queued (Kafka has not acknowledged yet)' : 'done'}: added ${added.length}${added.length ? ` (${added.join(', ')})` : ''}, unchanged ${unchanged.length}${unchanged.length ? ` (${unchanged.join(', ')})` : ''}`);
      return 0;
    }
    case 'rm':
    case 'remove': {
      if (args.length === 0) throw new CliUsageError('symbols rm needs at least one MARKET:SYMBOL');
      const entries = args.map((a) => parseMarketSymbol(a));
      if (!env.adminToken) throw new CliUsageError('symbols rm needs CONFIG_ADMIN_TOKEN (the config service\'s admin token)');
      let failed = 0;
      for (const e of entries) {
        try {
          const { json } = await call('DELETE', `${env.adminUrl}/symbols/${encodeURIComponent(e.market)}/${encodeURIComponent(e.symbol)}`, env.adminToken);
          io.out(`removed ${e.market}:${e.symbol} (${String(json.effect ?? 'ok')})`);
        } catch (err) {
          if (!(err instanceof AdminApiError) || entries.length === 1) throw err;
          failed++;
          io.err(`cvd: ${err.message}`);
        }
      }
      return failed ? 1 : 0;
    }
    default:
      throw new CliUsageError(`symbols: expected ls, add or rm${sub ? `, got ${JSON.stringify(sub)}` : ''}\n\n${SYMBOLS_HELP}`);
  }
}
