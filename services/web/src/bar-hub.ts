import { isMarket, isSymbol, MARKETS, symbolKey, type Market } from '@cvd/core';
import { WebError } from './errors.js';
import { parseMarket, parseSymbol } from './query.js';

/**
 * One 1m bar as `GET /api/stream` pushes it (`event: bar`): the row shape of `/api/bars`
 * (`ts`, `time` in epoch seconds, the same columns, numbers as the table's DOUBLEs) plus the
 * bar's `market` and `symbol`, and `last_agg_id` (the newest aggTrade id in the bar).
 */
export interface StreamBar {
  readonly market: Market;
  readonly symbol: string;
  readonly ts: string;
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly buy_volume: number;
  readonly sell_volume: number;
  readonly delta: number;
  readonly cvd_open: number;
  readonly cvd_high: number;
  readonly cvd_low: number;
  readonly cvd_close: number;
  /** The exact decimal (the table's `cvd_close_exact`). */
  readonly cvd_close_exact: string;
  readonly trades: number;
  readonly final: boolean;
  readonly last_agg_id: number;
}

/** Which bars one stream client wants: everything, one market, or a set of `market:SYMBOL` keys. */
export interface StreamFilter {
  readonly market?: Market;
  readonly keys?: ReadonlySet<string>;
}

const STREAM_PARAMS = ['symbols', 'market', 'symbol'] as const;
/** At most this many `market:SYMBOL` entries in `?symbols=`. */
export const MAX_STREAM_SYMBOLS = 1000;

const bad = (message: string): WebError => new WebError('bad-request', message);

function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw bad(`${name}: given ${all.length} times, expected once`);
  return all[0];
}

/**
 * `GET /api/stream` parameters, validated like `/api/bars`: `?market=usdm&symbol=BTCUSDT`
 * (one symbol), `?market=usdm` (one market), `?symbols=usdm:BTCUSDT,spot:ETHUSDT` (a list), or
 * nothing (every bar). Unknown or repeated parameters are refused.
 */
export function parseStreamQuery(params: URLSearchParams): StreamFilter {
  for (const name of new Set(params.keys())) {
    if (!(STREAM_PARAMS as readonly string[]).includes(name)) throw bad(`unknown parameter ${JSON.stringify(name.slice(0, 40))}; expected ${STREAM_PARAMS.join(', ')}`);
  }
  const list = single(params, 'symbols');
  const marketRaw = single(params, 'market');
  const symbolRaw = single(params, 'symbol');
  if (list !== undefined) {
    if (marketRaw !== undefined || symbolRaw !== undefined) throw bad('symbols: give either symbols=market:SYMBOL,… or market (and symbol), not both');
    const entries = list.split(',').filter((s) => s !== '');
    if (entries.length === 0) throw bad('symbols: expected market:SYMBOL[,market:SYMBOL…]');
    if (entries.length > MAX_STREAM_SYMBOLS) throw bad(`symbols: at most ${MAX_STREAM_SYMBOLS} entries, got ${entries.length}`);
    const keys = new Set<string>();
    for (const e of entries) {
      const i = e.indexOf(':');
      const m = i < 0 ? '' : e.slice(0, i);
      const s = i < 0 ? '' : e.slice(i + 1);
      if (!isMarket(m) || !isSymbol(s)) throw bad(`symbols: ${JSON.stringify(e.slice(0, 80))} is not market:SYMBOL with market one of ${MARKETS.join(', ')}`);
      keys.add(symbolKey(m, s));
    }
    return { keys };
  }
  if (symbolRaw !== undefined) {
    const market = parseMarket(marketRaw);
    return { keys: new Set([symbolKey(market, parseSymbol(symbolRaw))]) };
  }
  if (marketRaw !== undefined) return { market: parseMarket(marketRaw) };
  return {};
}

export function matchesFilter(filter: StreamFilter, bar: Pick<StreamBar, 'market' | 'symbol'>): boolean {
  if (filter.market !== undefined && bar.market !== filter.market) return false;
  if (filter.keys !== undefined && !filter.keys.has(symbolKey(bar.market, bar.symbol))) return false;
  return true;
}

/** Where a client's events go: the HTTP response, or a test double. */
export interface SseSink {
  /** Called once when the hub accepts the client, before the first write (send the 200 and its headers). */
  open?(): void;
  /** Like `ServerResponse.write`: false = buffered beyond the high-water mark (wait for {@link BarHub.drained}). */
  write(chunk: string): boolean;
  /** `shutdown`: end the response cleanly; `slow`: a client too far behind, cut it off. */
  close(reason: 'shutdown' | 'slow'): void;
}

/** What the hub counts (prom-client objects in the service, plain counters in tests). */
export interface HubMetrics {
  clients(n: number): void;
  pushed(events: number): void;
  dropped(reason: 'slow' | 'full'): void;
  resyncs?(): void;
}

export interface BarHubOptions {
  /** More concurrent clients are refused (`/api/stream` answers 503). @defaultValue 256 */
  maxClients?: number;
  /** A blocked client (its socket backed up) with more distinct (symbol, minute) bars waiting than this is dropped. @defaultValue 2000 */
  maxPending?: number;
  /** The EventSource reconnect delay sent to every client (`retry:`), ms. @defaultValue 2000 */
  retryMs?: number;
  /** How a flush is scheduled after bars were published. @defaultValue setImmediate */
  schedule?: (fn: () => void) => void;
  metrics?: HubMetrics;
}

/** One connected client. */
export interface HubClient {
  readonly id: number;
  readonly filter: StreamFilter;
}

interface ClientState extends HubClient {
  readonly sink: SseSink;
  /** Latest version of each (symbol, minute) bar not yet written, by `market:SYMBOL:ts`. */
  readonly pending: Map<string, StreamBar>;
  /** A `resync` event is due before the next bars. */
  resync: boolean;
  /** The sink's buffer is full: nothing more is written until it drains. */
  blocked: boolean;
}

export const sseBar = (bar: StreamBar): string => `event: bar\ndata: ${JSON.stringify(bar)}\n\n`;
export const SSE_RESYNC = 'event: resync\ndata: {}\n\n';
export const SSE_PING = ': ping\n\n';

/**
 * Fan-out of pushed bars to server-sent-event clients.
 *
 * - **Coalescing per client**: a client keeps at most one waiting version of each
 *   (market, symbol, minute) — the newest. A client whose socket keeps up gets every flush;
 *   a slow one gets the latest value of each bar once it drains, never a queue of versions.
 * - **Bounded**: a client whose socket is backed up with more than `maxPending` distinct bars
 *   waiting is dropped (it reconnects and refetches history); beyond `maxClients` new clients
 *   are refused.
 * - **resync**: after the consumer may have missed bars (rebalance, reconnect) every client
 *   gets `event: resync` (its waiting bars are discarded: it refetches history anyway).
 *
 * Pure logic: the HTTP response is behind {@link SseSink}; timers belong to the caller.
 */
export class BarHub {
  private readonly clients = new Map<number, ClientState>();
  private nextId = 1;
  private flushScheduled = false;
  private closed = false;
  private readonly maxClients: number;
  private readonly maxPending: number;
  private readonly retryMs: number;
  private readonly schedule: (fn: () => void) => void;

  constructor(private readonly o: BarHubOptions = {}) {
    this.maxClients = o.maxClients ?? 256;
    this.maxPending = o.maxPending ?? 2000;
    this.retryMs = o.retryMs ?? 2000;
    this.schedule = o.schedule ?? ((fn) => void setImmediate(fn));
  }

  get size(): number {
    return this.clients.size;
  }

  /** Bars waiting for one client (tests, diagnostics). */
  pendingOf(client: HubClient): number {
    return this.clients.get(client.id)?.pending.size ?? 0;
  }

  /**
   * Registers a client and writes the stream preamble (`retry:` and a comment, so the client
   * sees the stream open at once). `full` beyond `maxClients`, `closed` after {@link close}.
   */
  add(filter: StreamFilter, sink: SseSink): HubClient | 'full' | 'closed' {
    if (this.closed) return 'closed';
    if (this.clients.size >= this.maxClients) {
      this.o.metrics?.dropped('full');
      return 'full';
    }
    const c: ClientState = { id: this.nextId++, filter, sink, pending: new Map(), resync: false, blocked: false };
    this.clients.set(c.id, c);
    this.o.metrics?.clients(this.clients.size);
    sink.open?.();
    c.blocked = !sink.write(`retry: ${this.retryMs}\n: connected\n\n`);
    return c;
  }

  /** The client went away (its response closed). Idempotent. */
  remove(client: HubClient): void {
    if (this.clients.delete(client.id)) this.o.metrics?.clients(this.clients.size);
  }

  /** New versions of bars (one consumed batch). */
  publish(bars: readonly StreamBar[]): void {
    if (this.closed || bars.length === 0 || this.clients.size === 0) return;
    const keyed = bars.map((b) => [`${b.market}:${b.symbol}:${b.time}`, b] as const);
    for (const c of [...this.clients.values()]) {
      for (const [key, bar] of keyed) {
        if (!matchesFilter(c.filter, bar)) continue;
        // delete + set: the newest version goes to the end, after older minutes of the symbol.
        c.pending.delete(key);
        c.pending.set(key, bar);
      }
      // Only a client whose socket is backed up can fall behind: one that keeps up gets the
      // whole batch at the next flush, however large.
      if (c.blocked && c.pending.size > this.maxPending) this.drop(c);
    }
    this.scheduleFlush();
  }

  /** Every client refetches history: bars may have been missed. */
  resync(): void {
    if (this.closed || this.clients.size === 0) return;
    this.o.metrics?.resyncs?.();
    for (const c of this.clients.values()) {
      c.pending.clear();
      c.resync = true;
    }
    this.scheduleFlush();
  }

  /** A client's sink drained: write what waits for it. */
  drained(client: HubClient): void {
    const c = this.clients.get(client.id);
    if (!c) return;
    c.blocked = false;
    this.flushClient(c);
  }

  /** `: ping` to every client that is not blocked (keeps proxies and the client's watchdog calm). */
  ping(): void {
    for (const c of this.clients.values()) if (!c.blocked) c.blocked = !c.sink.write(SSE_PING);
  }

  /** Writes what waits, for every client that is not blocked. */
  flush(): void {
    this.flushScheduled = false;
    for (const c of [...this.clients.values()]) this.flushClient(c);
  }

  /** Ends every response cleanly and refuses new clients. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.clients.values()) {
      c.pending.clear();
      c.sink.close('shutdown');
    }
    this.clients.clear();
    this.o.metrics?.clients(0);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.schedule(() => this.flush());
  }

  private flushClient(c: ClientState): void {
    if (c.blocked || (!c.resync && c.pending.size === 0) || !this.clients.has(c.id)) return;
    let chunk = c.resync ? SSE_RESYNC : '';
    c.resync = false;
    const n = c.pending.size;
    for (const bar of c.pending.values()) chunk += sseBar(bar);
    c.pending.clear();
    c.blocked = !c.sink.write(chunk);
    if (n) this.o.metrics?.pushed(n);
  }

  private drop(c: ClientState): void {
    this.clients.delete(c.id);
    c.pending.clear();
    this.o.metrics?.dropped('slow');
    this.o.metrics?.clients(this.clients.size);
    c.sink.close('slow');
  }
}
