/**
 * Slowloris protection shared by every HTTP server of the pipeline (ops/web servers of all
 * services and the config admin API). Node's defaults are a 60 s headers timeout and a 300 s
 * request timeout, checked only every 30 s: a client dribbling headers or a body one byte at a
 * time held a connection for up to 5.5 minutes. These bounds cut it off within
 * `requestTimeoutMs + checkIntervalMs` (headers within `headersTimeoutMs + checkIntervalMs`),
 * with a 408 when nothing was answered yet.
 */
import type { ServerOptions } from 'node:http';

export interface HttpLimits {
  /** Complete request headers must arrive within this. @defaultValue 10 000 */
  readonly headersTimeoutMs?: number;
  /** The whole request (headers and body) must arrive within this (at least the headers timeout). @defaultValue 20 000 */
  readonly requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this. @defaultValue 5 000 */
  readonly keepAliveTimeoutMs?: number;
}

export const DEFAULT_HTTP_LIMITS = { headersTimeoutMs: 10_000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 5_000 } as const;

/** The `http.createServer` options enforcing `limits`. */
export function httpServerOptions(limits: HttpLimits = {}): ServerOptions {
  const headersTimeout = limits.headersTimeoutMs ?? DEFAULT_HTTP_LIMITS.headersTimeoutMs;
  const requestTimeout = Math.max(limits.requestTimeoutMs ?? DEFAULT_HTTP_LIMITS.requestTimeoutMs, headersTimeout);
  // Node checks these timeouts every `connectionsCheckingInterval` (30 s by default), which
  // would stretch a 10 s headers timeout to 40 s: check at a tenth of the shorter one.
  const connectionsCheckingInterval = Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 10)));
  return {
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval,
    keepAliveTimeout: limits.keepAliveTimeoutMs ?? DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs,
  };
}

/** Within how long a client dribbling its request under `limits` is cut off (request timeout plus one check interval). */
export function slowClientCutOffMs(limits: HttpLimits = {}): number {
  const o = httpServerOptions(limits);
  return (o.requestTimeout ?? 0) + (o.connectionsCheckingInterval ?? 0);
}
