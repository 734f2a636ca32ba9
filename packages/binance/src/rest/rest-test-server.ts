/**
 * Shared fixture of the REST client tests: a loopback HTTP server whose behaviour each test
 * sets (`srv.handler`), a fake clock, and a client wired to both. Each test file gets its own
 * server (node runs test files in separate processes), so a late request of one file's test
 * cannot reach another file's handler.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach } from 'node:test';
import { BinanceError } from '../errors.js';
import { RestClient } from './rest-client.js';
import type { RestClientOptions } from './rest-client.js';

export type Handler = (url: URL, res: ServerResponse, req: IncomingMessage) => void;

export interface RestTestServer {
  /** What the server does with the next request. */
  handler: Handler;
  /** Requests seen by the current test. */
  readonly hits: URL[];
  /** `http://127.0.0.1:PORT`, set once the server listens. */
  base: string;
}

/** Starts the loopback server for the calling test file (before/after hooks). */
export function restTestServer(): RestTestServer {
  const srv: RestTestServer = { handler: (_u, res) => res.writeHead(500).end(), hits: [], base: '' };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    srv.hits.push(url);
    srv.handler(url, res, req);
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    srv.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    srv.hits.length = 0;
  });
  return srv;
}

export type FakeClock = { now: () => number; sleep: (ms: number) => Promise<void>; sleeps: number[] };

/** A fake clock: sleeping advances time at once and is recorded. */
export function fakeClock(start = 1_700_000_040_000 + 10_000): FakeClock {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

/** A client on the fake clock whose three markets all point at `srv`. */
export function testClient(srv: RestTestServer, clock: FakeClock, extra: Partial<RestClientOptions> = {}): RestClient {
  return new RestClient({
    now: clock.now,
    sleep: clock.sleep,
    markets: { spot: { restBaseUrl: srv.base }, usdm: { restBaseUrl: srv.base }, coinm: { restBaseUrl: srv.base } },
    ...extra,
  });
}

export const row = (id: number): Record<string, unknown> => ({
  a: id,
  p: '26123.45000000',
  q: '0.00120000',
  f: id * 2,
  l: id * 2 + 1,
  T: 1_700_000_000_000 + id,
  m: id % 2 === 0,
});

export function json(res: ServerResponse, body: unknown, headers: Record<string, string> = {}, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export const isCode = (code: string) => (err: unknown): boolean => err instanceof BinanceError && err.code === code;
