/**
 * `startSimulator`: one HTTP server on loopback serving every market under a path prefix
 * (`/spot`, `/usdm`, `/coinm`), optionally also one server per market with no prefix. Each
 * market's base URL replaces Binance's: `wsUrl('usdm') + '/market/stream?streams=...'`,
 * `restUrl('spot') + '/api/v3/aggTrades?...'`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SimulatorError } from './errors.js';
import { Feed, type PaceOptions } from './feed.js';
import { FaultRegistry, type Fault } from './faults.js';
import { groundTruthView, SkipLog, type GroundTruth } from './ground-truth.js';
import { DEFAULT_MARKET_PROTOCOL, type MarketProtocolOptions } from './market-profiles.js';
import { handleRest } from './rest/rest-handler.js';
import { WeightMeter } from './rest/weight.js';
import { loadSource, type SourceSpec } from './sources/load.js';
import { defaultSymbolInfo, mergeByTime } from './sources/source.js';
import { TradeBook } from './trade-book.js';
import { aggTradeStreamName, isMarket, MARKETS, type Market, type SimTrade, type SymbolInfo } from './types.js';
import { SimConnection, type CloseReason } from './ws/connection.js';
import { TradeFrames } from './ws/frames.js';

/** Minimal pino-compatible logger. */
export interface SimLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export type StartPolicy = 'immediate' | 'first-subscriber' | 'manual';

/** Plain data (JSON-able) so a CLI (`cvd sim`) can build it from arguments. */
export interface SimulatorOptions {
  /** Listen address; keep it loopback. @defaultValue "127.0.0.1" */
  host?: string;
  /** Port of the shared server (0 = a free port). @defaultValue 0 */
  port?: number;
  /** Also serve these markets on their own port with no path prefix (0 = a free port). */
  marketPorts?: Partial<Record<Market, number>>;
  /** Trade sources, merged by trade time. @defaultValue [] */
  sources?: SourceSpec[];
  /** Extra symbols or overrides (status, grids) for `exchangeInfo`; matched by market+symbol. */
  symbols?: Array<Pick<SymbolInfo, 'market' | 'symbol'> & Partial<SymbolInfo>>;
  /** @defaultValue { mode: 'realtime' } */
  pace?: PaceOptions;
  /** When trades start flowing: at once, at the first aggTrade subscription, or on `start()`.
   * @defaultValue "first-subscriber" */
  start?: StartPolicy;
  /** Per-market protocol limits over Binance's defaults. */
  markets?: Partial<Record<Market, Partial<MarketProtocolOptions>>>;
  /** REST weight window. @defaultValue 60 000 ms */
  weightWindowMs?: number;
  /** USD-M and COIN-M share one weight budget (Binance since 2026-06-30). @defaultValue true */
  sharedFuturesWeight?: boolean;
  /** Faults active from the start. */
  faults?: Fault[];
  /** Seed of probabilistic faults. @defaultValue 1 */
  faultSeed?: number;
  logger?: SimLogger;
}

export interface SimulatorStats {
  published: number;
  exhausted: boolean;
  running: boolean;
  connections: number;
  /** Connections opened since start. */
  connectionsOpened: number;
  /** Closes by reason since start. */
  closes: Record<string, number>;
  /** REST responses by `market status`. */
  rest: Record<string, number>;
}

export interface Simulator {
  /** Port of the shared server. */
  readonly port: number;
  /** Base websocket URL of a market, a drop-in for `wss://stream.binance.com:9443` etc. */
  wsUrl(market: Market): string;
  /** Base REST URL of a market, a drop-in for `https://api.binance.com` etc. */
  restUrl(market: Market): string;
  groundTruth(): GroundTruth;
  /** Activates a fault; returns a function that removes it (no-op for one-shot faults). */
  inject(fault: Fault): () => void;
  /** Starts the feed (for `start: 'manual'`; harmless otherwise). */
  start(): void;
  pause(): void;
  resume(): void;
  /** Resolves when every source trade has been published (or the simulator stopped). */
  done(): Promise<void>;
  /** Resolves when open connections of `market` hold all of these streams (polls; bounded). */
  waitForSubscribers(market: Market, streams: readonly string[], timeoutMs?: number): Promise<void>;
  stats(): SimulatorStats;
  /** Idempotent: stops the feed, closes every connection and server. */
  stop(): Promise<void>;
}

const NOOP_LOGGER: SimLogger = { info: () => undefined, warn: () => undefined, debug: () => undefined };

interface WsRoute {
  deaf: boolean;
  combined: boolean;
  streams: string[];
}

/** Which websocket paths exist per market (path without the market prefix). */
export function wsRoute(market: Market, path: string, query: URLSearchParams): WsRoute | undefined {
  let p = path;
  let deaf = false;
  if (market === 'usdm') {
    // Since 2026-04-23 aggTrade is only under /market; other paths accept and stay silent.
    const m = /^\/(market|public|private)(\/.*)$/.exec(p);
    if (m !== null) {
      deaf = m[1] !== 'market';
      p = m[2] as string;
    } else {
      deaf = true;
    }
  }
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if (p === '/ws' || p === '/ws/') return { deaf, combined: false, streams: [] };
  if (p.startsWith('/ws/')) {
    return { deaf, combined: false, streams: p.slice(4).split('/').filter((s) => s !== '').map(decode) };
  }
  if (p === '/stream' || p === '/stream/') {
    const s = query.get('streams');
    return { deaf, combined: true, streams: s === null ? [] : s.split('/').filter((x) => x !== '') };
  }
  return undefined;
}

function validateOptions(o: SimulatorOptions): void {
  const bad = (why: string): never => {
    throw new SimulatorError('bad-options', why);
  };
  const portOk = (p: unknown): boolean => typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 65535;
  if (o.port !== undefined && !portOk(o.port)) bad(`port must be an integer 0..65535, got ${String(o.port)}`);
  for (const [m, p] of Object.entries(o.marketPorts ?? {})) {
    if (!isMarket(m)) bad(`marketPorts: unknown market ${m}`);
    if (!portOk(p)) bad(`marketPorts.${m} must be an integer 0..65535`);
  }
  if (o.pace?.mode === 'speed' && !(o.pace.factor > 0 && Number.isFinite(o.pace.factor))) bad('pace.factor must be > 0');
  if (o.start !== undefined && !['immediate', 'first-subscriber', 'manual'].includes(o.start)) bad(`bad start policy ${o.start}`);
  for (const [m, p] of Object.entries(o.markets ?? {})) {
    if (!isMarket(m)) bad(`markets: unknown market ${m}`);
    for (const [k, v] of Object.entries(p ?? {})) {
      if (typeof v === 'number' && !(v > 0)) bad(`markets.${m}.${k} must be > 0`);
    }
  }
  if (o.weightWindowMs !== undefined && !(o.weightWindowMs > 0)) bad('weightWindowMs must be > 0');
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  validateOptions(options);
  const log = options.logger ?? NOOP_LOGGER;
  const host = options.host ?? '127.0.0.1';
  const protocols = Object.fromEntries(
    MARKETS.map((m) => [m, { ...DEFAULT_MARKET_PROTOCOL[m], ...options.markets?.[m] }]),
  ) as Record<Market, MarketProtocolOptions>;
  const sources = await Promise.all((options.sources ?? []).map(loadSource));

  // Symbols: from sources, then overrides/extras.
  const symbolMaps = Object.fromEntries(MARKETS.map((m) => [m, new Map<string, SymbolInfo>()])) as Record<
    Market,
    Map<string, SymbolInfo>
  >;
  for (const src of sources) for (const s of src.symbols) symbolMaps[s.market].set(s.symbol, s);
  for (const o of options.symbols ?? []) {
    if (!isMarket(o.market)) throw new SimulatorError('bad-options', `symbols: bad market ${String(o.market)}`);
    const prev = symbolMaps[o.market].get(o.symbol);
    symbolMaps[o.market].set(o.symbol, {
      ...(prev ?? defaultSymbolInfo(o.market, o.symbol, o.tickSize ?? '0.01', o.stepSize ?? '0.001')),
      ...o,
    });
  }

  const book = new TradeBook();
  const skips = new SkipLog();
  const faults = new FaultRegistry(options.faultSeed ?? 1);
  const weights = new WeightMeter(options.weightWindowMs ?? 60_000);
  const sharedFutures = options.sharedFuturesWeight ?? true;
  const pace: PaceOptions = options.pace ?? { mode: 'realtime' };
  const fast = pace.mode === 'fast';
  const hwm = pace.mode === 'fast' ? (pace.highWaterMarkBytes ?? 1024 * 1024) : Infinity;
  const startPolicy = options.start ?? 'first-subscriber';

  const conns = new Set<SimConnection>();
  const index = Object.fromEntries(MARKETS.map((m) => [m, new Map<string, Set<SimConnection>>()])) as Record<
    Market,
    Map<string, Set<SimConnection>>
  >;
  const stats = { connectionsOpened: 0, closes: {} as Record<string, number>, rest: {} as Record<string, number> };
  let nextConnId = 1;
  let stopped = false;

  const publish = (t: SimTrade): void => {
    if (!book.add(t)) return;
    if (faults.skipOnWs(t)) {
      skips.add(t);
      return;
    }
    const subs = index[t.market].get(aggTradeStreamName(t.symbol));
    if (subs === undefined || subs.size === 0) return;
    const frames = new TradeFrames(t, protocols[t.market].sourceTypeField);
    for (const c of [...subs]) c.deliver(frames);
  };
  const blocked = (t: SimTrade): boolean => {
    const subs = index[t.market].get(aggTradeStreamName(t.symbol));
    if (subs === undefined) return false;
    for (const c of subs) if (c.open && c.bufferedAmount > hwm) return true;
    return false;
  };
  const feed = new Feed(mergeByTime(sources.map((s) => s.trades())), pace, publish, blocked);

  const hooks = {
    onSubscribe(conn: SimConnection, streams: readonly string[]): void {
      const idx = index[conn.market];
      for (const s of streams) {
        let set = idx.get(s);
        if (set === undefined) idx.set(s, (set = new Set()));
        set.add(conn);
      }
      if (startPolicy === 'first-subscriber' && !conn.deaf && streams.some((s) => s.endsWith('@aggTrade'))) feed.start();
    },
    onUnsubscribe(conn: SimConnection, streams: readonly string[]): void {
      const idx = index[conn.market];
      for (const s of streams) {
        const set = idx.get(s);
        set?.delete(conn);
        if (set?.size === 0) idx.delete(s);
      }
    },
    onClosed(conn: SimConnection, reason: CloseReason | 'client closed'): void {
      conns.delete(conn);
      stats.closes[reason] = (stats.closes[reason] ?? 0) + 1;
      log.debug({ market: conn.market, conn: conn.id, reason }, 'connection closed');
    },
  };

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  const split = (bound: Market | undefined, pathname: string): { market: Market; path: string } | undefined => {
    if (bound !== undefined) return { market: bound, path: pathname };
    const m = /^\/([a-z]+)(\/.*)?$/.exec(pathname);
    if (m === null || !isMarket(m[1])) return undefined;
    return { market: m[1], path: m[2] ?? '/' };
  };

  const onUpgrade = (bound: Market | undefined) => (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const target = split(bound, url.pathname);
    const route = target === undefined ? undefined : wsRoute(target.market, target.path, url.searchParams);
    if (stopped || target === undefined || route === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const market = target.market;
      const micro = market === 'spot' && (url.searchParams.get('timeUnit') ?? '').toUpperCase() === 'MICROSECOND';
      stats.connectionsOpened++;
      const conn = new SimConnection(ws, {
        id: nextConnId++,
        market,
        protocol: protocols[market],
        faults,
        deaf: route.deaf,
        combined: route.combined,
        micro,
        streams: route.streams,
        dropSlowConsumers: !fast,
        hooks,
      });
      if (conn.open) conns.add(conn);
      log.debug({ market, conn: conn.id, path: url.pathname, deaf: route.deaf }, 'connection opened');
    });
  };

  const onRequest = (bound: Market | undefined) => (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const target = split(bound, url.pathname);
    const restCtx = {
      book,
      faults,
      weights,
      protocol: (m: Market) => protocols[m],
      symbols: (m: Market) => [...symbolMaps[m].values()],
      bucket: (m: Market) => (sharedFutures && m !== 'spot' ? 'futures' : m),
      onRequest: (m: Market, _path: string, status: number) => {
        const k = `${m} ${status}`;
        stats.rest[k] = (stats.rest[k] ?? 0) + 1;
      },
    };
    try {
      if (target !== undefined && handleRest(target.market, target.path, url.searchParams, req, res, restCtx)) return;
    } catch (err) {
      log.warn({ err }, 'rest handler failed');
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: -1000, msg: 'An unknown error occurred while processing the request.' }));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ code: -1000, msg: 'Not found.' }));
  };

  const listen = (server: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', (err) =>
        reject(new SimulatorError('listen-failed', `cannot listen on ${host}:${port}`, { cause: err })),
      );
      server.listen(port, host, () => {
        const addr = server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });

  const servers: Server[] = [];
  const makeServer = (bound: Market | undefined): Server => {
    const s = createServer(onRequest(bound));
    s.on('upgrade', onUpgrade(bound));
    servers.push(s);
    return s;
  };
  const closeServers = async (): Promise<void> => {
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  };

  let port: number;
  const marketPorts: Partial<Record<Market, number>> = {};
  try {
    port = await listen(makeServer(undefined), options.port ?? 0);
    for (const m of MARKETS) {
      const p = options.marketPorts?.[m];
      if (p !== undefined) marketPorts[m] = await listen(makeServer(m), p);
    }
  } catch (err) {
    await closeServers();
    throw err;
  }

  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  const base = (scheme: 'ws' | 'http', m: Market): string => {
    const own = marketPorts[m];
    return own !== undefined ? `${scheme}://${hostInUrl}:${own}` : `${scheme}://${hostInUrl}:${port}/${m}`;
  };

  const matching = (market: Market | undefined): SimConnection[] =>
    [...conns].filter((c) => market === undefined || c.market === market);

  const inject = (fault: Fault): (() => void) => {
    if (stopped) throw new SimulatorError('not-running', 'simulator is stopped');
    switch (fault.kind) {
      case 'disconnect':
        for (const c of matching(fault.market)) c.close('fault: disconnect', fault.abrupt === true);
        return () => undefined;
      case 'server-shutdown':
        for (const c of matching(fault.market)) {
          c.sendEvent({ e: 'serverShutdown', E: Date.now() });
          c.close('server shutdown');
        }
        return () => undefined;
      default: {
        const active = faults.add(fault);
        if (fault.kind === 'silence') {
          active.targets = new WeakSet(matching(fault.market));
          if (fault.durationMs !== undefined) {
            active.timer = setTimeout(() => faults.remove(active), fault.durationMs);
            active.timer.unref();
          }
        }
        log.info({ fault }, 'fault injected');
        return () => faults.remove(active);
      }
    }
  };
  for (const f of options.faults ?? []) inject(f);

  if (startPolicy === 'immediate') feed.start();
  log.info({ port, marketPorts, sources: sources.map((s) => s.name) }, 'simulator listening');

  const sim: Simulator = {
    port,
    wsUrl: (m) => base('ws', m),
    restUrl: (m) => base('http', m),
    groundTruth: () => groundTruthView(book, skips, faults),
    inject,
    start: () => feed.start(),
    pause: () => feed.pause(),
    resume: () => feed.resume(),
    done: () => feed.finished,
    async waitForSubscribers(market, streams, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!streams.every((s) => [...(index[market].get(s) ?? [])].some((c) => c.open && !c.deaf))) {
        if (stopped) throw new SimulatorError('not-running', 'simulator is stopped');
        if (Date.now() > deadline) throw new SimulatorError('no-subscriber', `no subscriber for ${streams.join(',')} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    stats: () => ({
      published: feed.published,
      exhausted: feed.exhausted,
      running: feed.running,
      connections: conns.size,
      connectionsOpened: stats.connectionsOpened,
      closes: { ...stats.closes },
      rest: { ...stats.rest },
    }),
    async stop() {
      if (stopped) return;
      stopped = true;
      feed.stop();
      faults.clear();
      for (const c of [...conns]) c.close('simulator stopped', true);
      wss.close();
      await closeServers();
      log.info({}, 'simulator stopped');
    },
  };
  return sim;
}
