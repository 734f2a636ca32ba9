import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { CvdError } from '@cvd/core';
import { httpServerOptions, type HttpLimits } from './http-limits.js';

/** What `/health` reports. Extra fields are passed through to the JSON body. */
export interface HealthReport {
  /** `true` → 200, `false` → 503. */
  readonly healthy: boolean;
  /** Named sub-checks, e.g. `{ kafka: { healthy: true }, questdb: { healthy: false, detail: 'timeout' } }`. */
  readonly checks?: Readonly<Record<string, { readonly healthy: boolean; readonly detail?: string }>>;
  readonly [extra: string]: unknown;
}

/** An extra endpoint served next to `/health` and `/metrics`. */
export interface OpsRoute {
  readonly method: string;
  /** Exact path, without query string. */
  readonly path: string;
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
}

/** Options of {@link startOpsServer}. */
export interface OpsServerOptions {
  /** 0 picks a free port (see {@link OpsServer.port}). */
  readonly port: number;
  /** Loopback by default: exposing ops endpoints is an explicit choice. @defaultValue '127.0.0.1' */
  readonly host?: string;
  readonly registry: Registry;
  readonly health: () => HealthReport | Promise<HealthReport>;
  readonly logger: Logger;
  readonly routes?: readonly OpsRoute[];
  /** Slowloris bounds. @defaultValue {@link DEFAULT_HTTP_LIMITS} */
  readonly limits?: HttpLimits;
}

export interface OpsServer {
  /** The bound port (useful with `port: 0`). */
  readonly port: number;
  readonly host: string;
  /** `http://host:port`. */
  readonly url: string;
  /** Stops listening and drops keep-alive connections; safe to call many times. */
  close(): Promise<void>;
}

export const OPS_SERVER_ERROR_CODES = ['listen-failed'] as const;
export class OpsServerError extends CvdError<(typeof OPS_SERVER_ERROR_CODES)[number]> {}

/**
 * Serves `GET /health` (200 healthy / 503 not, JSON report either way; a throwing check is
 * a 503), `GET /metrics` (Prometheus text) and the given extra routes.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const host = options.host ?? '127.0.0.1';
  const { logger, registry } = options;
  const routes = new Map<string, OpsRoute>();
  const builtin: OpsRoute[] = [
    { method: 'GET', path: '/health', handler: (_req, res) => serveHealth(options.health, res) },
    { method: 'GET', path: '/metrics', handler: (_req, res) => serveMetrics(registry, res) },
  ];
  for (const r of [...builtin, ...(options.routes ?? [])]) routes.set(`${r.method.toUpperCase()} ${r.path}`, r);
  const paths = new Set([...routes.values()].map((r) => r.path));

  const server = createServer(httpServerOptions(options.limits), (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const route = routes.get(`${req.method ?? 'GET'} ${path}`);
    if (route === undefined) {
      sendJson(res, paths.has(path) ? 405 : 404, { error: paths.has(path) ? 'method not allowed' : 'not found' });
      return;
    }
    Promise.resolve()
      .then(() => route.handler(req, res))
      .catch((err: unknown) => {
        logger.error({ err, path }, 'ops route failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new OpsServerError('listen-failed', `ops server could not listen on ${host}:${options.port}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'ops server error'));

  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  logger.info({ host, port }, 'ops server listening');
  return {
    port,
    host,
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

async function serveHealth(health: OpsServerOptions['health'], res: ServerResponse): Promise<void> {
  let report: HealthReport;
  try {
    report = await health();
  } catch (err) {
    report = { healthy: false, error: err instanceof Error ? err.message : String(err) };
  }
  sendJson(res, report.healthy ? 200 : 503, report);
}

async function serveMetrics(registry: Registry, res: ServerResponse): Promise<void> {
  const body = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * A fresh registry (never the global one, so tests and several services in one process
 * do not collide) with default Node metrics prefixed `cvd_` and a `service` label.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'cvd_' });
  return registry;
}
