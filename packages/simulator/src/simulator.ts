/**
 * `startSimulator`: one HTTP server on loopback serving every market under a path prefix
 * (`/spot`, `/usdm`, `/coinm`), optionally also one server per market with no prefix. Each
 * market's base URL replaces Binance's: `wsUrl('usdm') + '/market/stream?streams=...'`,
 * `restUrl('spot') + '/api/v3/aggTrades?...'`.
 *
 * This file only composes the parts, each owning its state: the `Catalogue` (symbols served),
 * the `TradeBook` and `SkipLog` (ground truth), the `Feed` (pacing), `Subscriptions` (who
 * holds which stream), the `FaultInjector` and the `SimServer` (HTTP/websocket wiring).
 */
import { Catalogue } from './catalogue.js';
import { SimulatorError } from './errors.js';
import { FaultInjector } from './fault-injector.js';
import { Feed, type PaceOptions } from './feed.js';
import { FaultRegistry, type Fault } from './faults.js';
import { groundTruthView, SkipLog, type GroundTruth } from './ground-truth.js';
import { DEFAULT_MARKET_PROTOCOL, type MarketProtocolOptions } from './market-profiles.js';
import { NOOP_LOGGER, validateOptions, type SimulatorOptions } from './options.js';
import { WeightMeter } from './rest/weight.js';
import { SimServer } from './server.js';
import { loadSource } from './sources/load.js';
import { mergeByTime } from './sources/source.js';
import { Subscriptions } from './subscriptions.js';
import { TradeBook } from './trade-book.js';
import { aggTradeStreamName, MARKETS, type Market, type SimTrade } from './types.js';
import { SimConnection } from './ws/connection.js';
import { TradeFrames } from './ws/frames.js';

export type { SimLogger, SimulatorOptions, StartPolicy } from './options.js';
export { wsRoute } from './routing.js';

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
  /** Trade time (ms) of the earliest trade of all sources, or undefined when they hold none (a replay's start, for start-up checks). */
  firstTradeTimeMs(): number | undefined;
  /** Idempotent: stops the feed, closes every connection and server. */
  stop(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  validateOptions(options);
  const log = options.logger ?? NOOP_LOGGER;
  const protocols = Object.fromEntries(
    MARKETS.map((m) => [m, { ...DEFAULT_MARKET_PROTOCOL[m], ...options.markets?.[m] }]),
  ) as Record<Market, MarketProtocolOptions>;
  const sources = await Promise.all((options.sources ?? []).map(loadSource));
  const catalogue = new Catalogue(sources, options.symbols);

  const book = new TradeBook();
  const skips = new SkipLog();
  const faults = new FaultRegistry(options.faultSeed ?? 1);
  const weights = new WeightMeter(options.weightWindowMs ?? 60_000);
  const sharedFutures = options.sharedFuturesWeight ?? true;
  const pace: PaceOptions = options.pace ?? { mode: 'realtime' };
  const fast = pace.mode === 'fast';
  const hwm = pace.mode === 'fast' ? (pace.highWaterMarkBytes ?? 1024 * 1024) : Infinity;
  const startPolicy = options.start ?? 'first-subscriber';
  let stopped = false;

  const subs = new Subscriptions(log, () => {
    if (startPolicy === 'first-subscriber') feed.start();
  });
  const publish = (t: SimTrade): void => {
    if (!book.add(t)) return;
    if (faults.skipOnWs(t)) {
      skips.add(t);
      return;
    }
    const to = subs.subscribers(t.market, aggTradeStreamName(t.symbol));
    if (to.length === 0) return;
    const frames = new TradeFrames(t, protocols[t.market].sourceTypeField);
    for (const c of to) c.deliver(frames);
  };
  const blocked = (t: SimTrade): boolean => subs.backedUp(t.market, aggTradeStreamName(t.symbol), hwm);
  const feed = new Feed(mergeByTime(sources.map((s) => s.trades())), pace, publish, blocked);
  const injector = new FaultInjector(faults, subs, log);

  const server = await SimServer.listen({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    marketPorts: options.marketPorts ?? {},
    log,
    rest: {
      book,
      faults,
      weights,
      protocol: (m) => protocols[m],
      symbols: (m) => catalogue.symbols(m),
      bucket: (m) => (sharedFutures && m !== 'spot' ? 'futures' : m),
    },
    accept(ws, market, route, url) {
      const micro = market === 'spot' && (url.searchParams.get('timeUnit') ?? '').toUpperCase() === 'MICROSECOND';
      const conn = new SimConnection(ws, {
        id: subs.nextConnectionId(),
        market,
        protocol: protocols[market],
        faults,
        deaf: route.deaf,
        combined: route.combined,
        micro,
        streams: route.streams,
        dropSlowConsumers: !fast,
        hooks: subs,
      });
      subs.added(conn);
      log.debug({ market, conn: conn.id, path: url.pathname, deaf: route.deaf }, 'connection opened');
    },
  });

  const inject = (fault: Fault): (() => void) => {
    if (stopped) throw new SimulatorError('not-running', 'simulator is stopped');
    return injector.inject(fault);
  };
  for (const f of options.faults ?? []) inject(f);

  if (startPolicy === 'immediate') feed.start();
  log.info({ port: server.port, marketPorts: server.marketPorts, sources: sources.map((s) => s.name) }, 'simulator listening');

  return {
    port: server.port,
    wsUrl: (m) => server.baseUrl('ws', m),
    restUrl: (m) => server.baseUrl('http', m),
    groundTruth: () => groundTruthView(book, skips, faults),
    inject,
    start: () => feed.start(),
    pause: () => feed.pause(),
    resume: () => feed.resume(),
    done: () => feed.finished,
    async waitForSubscribers(market, streams, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!subs.allHeld(market, streams)) {
        if (stopped) throw new SimulatorError('not-running', 'simulator is stopped');
        if (Date.now() > deadline) throw new SimulatorError('no-subscriber', `no subscriber for ${streams.join(',')} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    stats: () => ({
      published: feed.published,
      exhausted: feed.exhausted,
      running: feed.running,
      ...subs.stats(),
      rest: server.restStats(),
    }),
    firstTradeTimeMs() {
      let first: number | undefined;
      for (const s of sources) {
        const r = s.trades().next();
        if (r.done !== true && (first === undefined || r.value.T < first)) first = r.value.T;
      }
      return first;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      feed.stop();
      injector.clear();
      for (const c of subs.connections()) c.close('simulator stopped', true);
      await server.close();
      log.info({}, 'simulator stopped');
    },
  };
}
