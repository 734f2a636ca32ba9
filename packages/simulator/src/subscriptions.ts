/**
 * Who is subscribed to what: the open connections and, per market, which connections hold
 * each stream. The connections report their (un)subscriptions and closes through the
 * `ConnectionHooks` this registry implements; the feed asks it where a trade goes and whether
 * a subscriber is backed up; `stats()` reports the counts. The only mutable connection state
 * of the simulator lives here.
 */
import type { SimLogger } from './options.js';
import { MARKETS, type Market } from './types.js';
import type { CloseReason, ConnectionHooks, SimConnection } from './ws/connection.js';

export class Subscriptions implements ConnectionHooks {
  private readonly conns = new Set<SimConnection>();
  private readonly index: Record<Market, Map<string, Set<SimConnection>>>;
  private readonly closes: Record<string, number> = {};
  private opened = 0;
  private nextId = 1;

  /**
   * @param onAggTradeSubscribe - called when a connection that receives data subscribes to an
   *   aggTrade stream (the `first-subscriber` start policy starts the feed there).
   */
  constructor(
    private readonly log: SimLogger,
    private readonly onAggTradeSubscribe: () => void,
  ) {
    this.index = Object.fromEntries(MARKETS.map((m) => [m, new Map<string, Set<SimConnection>>()])) as Record<
      Market,
      Map<string, Set<SimConnection>>
    >;
  }

  /** Id of the next connection; counts it as opened. */
  nextConnectionId(): number {
    this.opened++;
    return this.nextId++;
  }

  /** Registers a connection that opened (one refused at once is only counted). */
  added(conn: SimConnection): void {
    if (conn.open) this.conns.add(conn);
  }

  onSubscribe(conn: SimConnection, streams: readonly string[]): void {
    const idx = this.index[conn.market];
    for (const s of streams) {
      let set = idx.get(s);
      if (set === undefined) idx.set(s, (set = new Set()));
      set.add(conn);
    }
    if (!conn.deaf && streams.some((s) => s.endsWith('@aggTrade'))) this.onAggTradeSubscribe();
  }

  onUnsubscribe(conn: SimConnection, streams: readonly string[]): void {
    const idx = this.index[conn.market];
    for (const s of streams) {
      const set = idx.get(s);
      set?.delete(conn);
      if (set?.size === 0) idx.delete(s);
    }
  }

  onClosed(conn: SimConnection, reason: CloseReason | 'client closed'): void {
    this.conns.delete(conn);
    this.closes[reason] = (this.closes[reason] ?? 0) + 1;
    this.log.debug({ market: conn.market, conn: conn.id, reason }, 'connection closed');
  }

  /** Connections subscribed to `stream` of `market` (a copy: delivering may close some). */
  subscribers(market: Market, stream: string): SimConnection[] {
    const subs = this.index[market].get(stream);
    return subs === undefined ? [] : [...subs];
  }

  /** True when an open subscriber of `stream` buffers more than `highWaterMarkBytes`. */
  backedUp(market: Market, stream: string, highWaterMarkBytes: number): boolean {
    const subs = this.index[market].get(stream);
    if (subs === undefined) return false;
    for (const c of subs) if (c.open && c.bufferedAmount > highWaterMarkBytes) return true;
    return false;
  }

  /** True when every stream has an open subscriber that receives data (not deaf). */
  allHeld(market: Market, streams: readonly string[]): boolean {
    return streams.every((s) => [...(this.index[market].get(s) ?? [])].some((c) => c.open && !c.deaf));
  }

  /** Open connections of `market` (every market when undefined). */
  connections(market?: Market): SimConnection[] {
    return [...this.conns].filter((c) => market === undefined || c.market === market);
  }

  stats(): { connections: number; connectionsOpened: number; closes: Record<string, number> } {
    return { connections: this.conns.size, connectionsOpened: this.opened, closes: { ...this.closes } };
  }
}
