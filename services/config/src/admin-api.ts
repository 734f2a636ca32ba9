/**
 * The admin HTTP API (node:http):
 *
 * - `GET /symbols` — the effective set with sources
 * - `POST /symbols` — body `{"market":"usdm","symbol":"BTCUSDT"}` or a list of them
 * - `DELETE /symbols/:market/:symbol`
 *
 * This module owns HTTP concerns only — authentication, body limits, input shape, status
 * codes — and calls the handlers it is given for the state changes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CvdError, httpServerOptions, RateLimitedLog, type Logger } from '@cvd/common';
import type { Market } from '@cvd/core';
import { key } from '@cvd/schemas';
import type { ConfigMetrics } from './metrics.js';
import { marketProblem, symbolProblem } from './symbol-rules.js';
import { bearerToken, tokensEqual } from './token.js';

/** Largest accepted request body. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Most entries in one POST. */
export const MAX_POST_ITEMS = 1_000;

export interface MarketSymbolInput {
  readonly market: Market;
  readonly symbol: string;
}

/** What a handler answers: an HTTP status and a JSON body. */
export interface AdminReply {
  readonly status: number;
  readonly body: unknown;
}

export interface AdminHandlers {
  list(): unknown;
  add(items: readonly MarketSymbolInput[]): Promise<AdminReply>;
  remove(item: MarketSymbolInput): Promise<AdminReply>;
}

export interface AdminServerOptions {
  /** @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** 0 = a free port. */
  readonly port: number;
  /** Without a token, GET works and mutating requests get 503. */
  readonly token: string | undefined;
  readonly handlers: AdminHandlers;
  readonly logger: Logger;
  readonly metrics: ConfigMetrics;
  /** A client must send its request headers within this time (slowloris). @defaultValue 10000 */
  readonly headersTimeoutMs?: number;
  /** A client must send its whole request within this time. @defaultValue 20000 */
  readonly requestTimeoutMs?: number;
}

export interface AdminServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The `error` field of an admin API error answer; clients branch on it. */
export const ADMIN_HTTP_ERROR_CODES = [
  'payload-too-large',
  'invalid-json',
  'invalid-request',
  'not-found',
  'method-not-allowed',
  'admin-token-not-configured',
  'unauthorized',
  'unsupported-media-type',
] as const;
export type AdminHttpErrorCode = (typeof ADMIN_HTTP_ERROR_CODES)[number];

/**
 * A request the admin API refuses with a 4xx (or the 503 of a missing token), answered as
 * `{ error: code, message, details? }`. Never retriable: the same request (or, for the
 * token, the same service configuration) is refused again.
 */
class HttpError extends CvdError<AdminHttpErrorCode> {
  constructor(
    readonly status: number,
    code: AdminHttpErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(code, message, { retriable: false });
  }
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = (): HttpError =>
    new HttpError(413, 'payload-too-large', `request body is larger than ${MAX_BODY_BYTES} bytes`);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Validates one `{ market, symbol }` entry; returns it or a message. */
function parseItem(raw: unknown, where: string): MarketSymbolInput | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `${where}: expected an object {"market":…,"symbol":…}`;
  const unknown = Object.keys(raw).filter((k) => k !== 'market' && k !== 'symbol');
  if (unknown.length > 0) return `${where}: unknown field ${JSON.stringify(unknown[0])} (expected market and symbol)`;
  const { market, symbol } = raw as { market?: unknown; symbol?: unknown };
  if (market === undefined) return `${where}: market is missing`;
  const mp = marketProblem(market);
  if (mp !== undefined) return `${where}: ${mp}`;
  if (symbol === undefined) return `${where}: symbol is missing`;
  const sp = symbolProblem(symbol);
  if (sp !== undefined) return `${where}: ${sp}`;
  return { market: market as Market, symbol: symbol as string };
}

/** Parses a POST body: one entry or a non-empty list (all-or-nothing). */
export function parseAddBody(body: Buffer): MarketSymbolInput[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid-json', 'request body is not valid JSON');
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0) throw new HttpError(400, 'invalid-request', 'the list is empty');
  if (list.length > MAX_POST_ITEMS) throw new HttpError(400, 'invalid-request', `at most ${MAX_POST_ITEMS} entries per request`);
  const items: MarketSymbolInput[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  list.forEach((raw: unknown, i) => {
    const r = parseItem(raw, Array.isArray(parsed) ? `[${i}]` : 'body');
    if (typeof r === 'string') problems.push(r);
    else if (!seen.has(key(r.market, r.symbol))) {
      seen.add(key(r.market, r.symbol));
      items.push(r);
    }
  });
  if (problems.length > 0) {
    throw new HttpError(400, 'invalid-request', problems[0] ?? 'invalid request', problems.length > 1 ? { problems: problems.slice(0, 50) } : undefined);
  }
  return items;
}

/** Starts the admin server. Rejects when the port cannot be bound. */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const host = options.host ?? '127.0.0.1';
  const { handlers, metrics, token } = options;
  const logger = options.logger.child({ component: 'admin-api' });
  const authLog = new RateLimitedLog(logger);

  const handle = async (req: IncomingMessage, res: ServerResponse, route: { value: string }): Promise<void> => {
    const method = req.method ?? 'GET';
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://admin.invalid').pathname;
    } catch {
      throw new HttpError(400, 'invalid-request', 'malformed URL');
    }
    const segments = path.split('/').slice(1);
    if (segments[0] !== 'symbols' || segments.length > 3 || segments.length === 2) {
      throw new HttpError(404, 'not-found', 'unknown path; see GET /symbols, POST /symbols, DELETE /symbols/:market/:symbol');
    }
    const isItem = segments.length === 3;
    route.value = isItem ? '/symbols/:market/:symbol' : '/symbols';
    const allowed = isItem ? ['DELETE'] : ['GET', 'POST'];
    if (!allowed.includes(method)) {
      res.setHeader('allow', allowed.join(', '));
      throw new HttpError(405, 'method-not-allowed', `${method} is not allowed on ${route.value} (allowed: ${allowed.join(', ')})`);
    }
    const mutating = method !== 'GET';
    if (token === undefined) {
      if (mutating) {
        throw new HttpError(
          503,
          'admin-token-not-configured',
          'changes through the admin API are disabled: set CONFIG_ADMIN_TOKEN (at least 16 characters) and restart the config service',
        );
      }
    } else {
      const presented = bearerToken(req.headers.authorization);
      if (presented === undefined || !tokensEqual(presented, token)) {
        authLog.warn('unauthorized', { method, route: route.value, remote: req.socket.remoteAddress }, 'admin request without a valid token');
        throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token (Authorization: Bearer <CONFIG_ADMIN_TOKEN>)');
      }
    }

    if (method === 'GET') {
      send(res, 200, handlers.list());
      return;
    }
    if (method === 'POST') {
      const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
      if (type !== 'application/json') {
        throw new HttpError(415, 'unsupported-media-type', 'send the body as JSON with Content-Type: application/json');
      }
      const items = parseAddBody(await readBody(req));
      const reply = await handlers.add(items);
      send(res, reply.status, reply.body);
      return;
    }
    // DELETE /symbols/:market/:symbol
    let market: string;
    let symbol: string;
    try {
      market = decodeURIComponent(segments[1] ?? '');
      symbol = decodeURIComponent(segments[2] ?? '');
    } catch {
      throw new HttpError(400, 'invalid-request', 'malformed percent-encoding in the path');
    }
    const item = parseItem({ market, symbol }, 'path');
    if (typeof item === 'string') throw new HttpError(400, 'invalid-request', item);
    const reply = await handlers.remove(item);
    send(res, reply.status, reply.body);
  };

  const serverOptions = httpServerOptions({
    ...(options.headersTimeoutMs === undefined ? {} : { headersTimeoutMs: options.headersTimeoutMs }),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
  });
  const server = createServer(serverOptions, (req, res) => {
    const route = { value: 'other' };
    const started = Date.now();
    handle(req, res, route)
      .catch((err: unknown) => {
        if (err instanceof HttpError) {
          const close = err.status === 413 ? { connection: 'close' } : undefined;
          send(res, err.status, { error: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) }, close);
          // An oversized body is not drained: stop reading it.
          if (err.status === 413) res.on('finish', () => req.destroy());
          return;
        }
        logger.error({ err, method: req.method, route: route.value }, 'admin request failed');
        send(res, 500, { error: 'internal-error', message: 'internal error; see the service log' });
      })
      .finally(() => {
        metrics.adminRequests.inc({ method: req.method ?? 'GET', route: route.value, status: String(res.statusCode) });
        // Never the headers: they carry the token.
        logger.debug({ method: req.method, route: route.value, status: res.statusCode, ms: Date.now() - started }, 'admin request');
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'admin server error'));
  const port = (server.address() as AddressInfo).port;
  logger.info({ host, port, tokenConfigured: token !== undefined }, 'admin API listening');
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
