/**
 * The HTTP/websocket wiring: one server on loopback serving every market under a path prefix,
 * optionally one more per market with no prefix. It routes upgrades to `accept` and requests
 * to the REST handler, answers 404 for unknown paths and 500 (Binance's `-1000` body) when a
 * handler throws, counts REST responses, and closes everything on `close()`. It knows nothing
 * of trades, subscriptions or faults beyond what it hands on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SimulatorError } from './errors.js';
import type { SimLogger } from './options.js';
import { handleRest, type RestContext } from './rest/rest-handler.js';
import { splitMarketPath, wsRoute, type WsRoute } from './routing.js';
import { MARKETS, type Market } from './types.js';

export interface ServerOptions {
  host: string;
  /** Port of the shared server (0 = a free port). */
  port: number;
  /** Markets also served on their own port. */
  marketPorts: Partial<Record<Market, number>>;
  /** REST state; the server adds the response counting. */
  rest: Omit<RestContext, 'onRequest'>;
  /** Takes over an accepted websocket on a known route. */
  accept(ws: WebSocket, market: Market, route: WsRoute, url: URL): void;
  log: SimLogger;
}

export class SimServer {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly servers: Server[] = [];
  private readonly restCounts: Record<string, number> = {};
  private readonly restCtx: RestContext;
  private readonly ownPorts: Partial<Record<Market, number>> = {};
  private sharedPort = 0;
  private closed = false;

  private constructor(private readonly o: ServerOptions) {
    this.restCtx = {
      ...o.rest,
      onRequest: (m, _path, status) => {
        const k = `${m} ${status}`;
        this.restCounts[k] = (this.restCounts[k] ?? 0) + 1;
      },
    };
  }

  /** Binds the shared server, then each market port; on a failure closes what was bound. */
  static async listen(o: ServerOptions): Promise<SimServer> {
    const s = new SimServer(o);
    try {
      s.sharedPort = await s.bind(undefined, o.port);
      for (const m of MARKETS) {
        const p = o.marketPorts[m];
        if (p !== undefined) s.ownPorts[m] = await s.bind(m, p);
      }
    } catch (err) {
      await s.closeServers();
      throw err;
    }
    return s;
  }

  /** Port of the shared server. */
  get port(): number {
    return this.sharedPort;
  }

  /** The bound per-market ports. */
  get marketPorts(): Partial<Record<Market, number>> {
    return { ...this.ownPorts };
  }

  /** Base URL of a market: its own port, else the shared port plus `/<market>`. */
  baseUrl(scheme: 'ws' | 'http', m: Market): string {
    const host = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
    const own = this.ownPorts[m];
    return own !== undefined ? `${scheme}://${host}:${own}` : `${scheme}://${host}:${this.sharedPort}/${m}`;
  }

  /** REST responses by `market status`. */
  restStats(): Record<string, number> {
    return { ...this.restCounts };
  }

  /** Refuses new upgrades at once, then closes the servers and their sockets. */
  async close(): Promise<void> {
    this.closed = true;
    this.wss.close();
    await this.closeServers();
  }

  private bind(bound: Market | undefined, port: number): Promise<number> {
    const server = createServer((req, res) => this.onRequest(bound, req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(bound, req, socket, head));
    this.servers.push(server);
    const host = this.o.host;
    return new Promise((resolve, reject) => {
      server.once('error', (err) =>
        reject(new SimulatorError('listen-failed', `cannot listen on ${host}:${port}`, { cause: err })),
      );
      server.listen(port, host, () => {
        const addr = server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });
  }

  private onUpgrade(bound: Market | undefined, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const target = splitMarketPath(bound, url.pathname);
    const route = target === undefined ? undefined : wsRoute(target.market, target.path, url.searchParams);
    if (this.closed || target === undefined || route === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => this.o.accept(ws, target.market, route, url));
  }

  private onRequest(bound: Market | undefined, req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const target = splitMarketPath(bound, url.pathname);
    try {
      if (target !== undefined && handleRest(target.market, target.path, url.searchParams, req, res, this.restCtx)) return;
    } catch (err) {
      this.o.log.warn({ err }, 'rest handler failed');
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: -1000, msg: 'An unknown error occurred while processing the request.' }));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ code: -1000, msg: 'Not found.' }));
  }

  private async closeServers(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }
}
