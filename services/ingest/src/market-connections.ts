/**
 * The connections of one market. Streams are spread over logical connections ("slots") of at
 * most `streamsPerConnection` streams (see `plan.ts`). Each slot owns:
 *
 * - its current {@link Connection}; new streams are SUBSCRIBEd on it live, never by reopening;
 * - reconnects: a connection lost for any reason but our own is reopened after a delay from
 *   the one backoff policy (`Backoff`, full jitter), at once after a `serverShutdown`;
 * - rotation: `connectionLifetimeMs` after a connection opened (before Binance's forced 24 h
 *   disconnect) a successor is opened with the same streams; once every subscription of the
 *   successor is acknowledged both run side by side for `rotationOverlapMs`, then the old one
 *   is closed. Frames seen twice during the overlap are dropped by the per-symbol id tracking,
 *   so a rotation neither loses nor duplicates a trade.
 */
import type { FrameError, TradeFrame } from '@cvd/binance';
import type { Market } from '@cvd/core';
import { Backoff, type Logger } from '@cvd/common';
import { Connection, type CloseCause, type ConnectionHandlers } from './connection.js';
import type { IngestConfig, MarketSettings } from './env.js';
import type { IngestMetrics } from './metrics.js';
import { planAdditions } from './plan.js';

export interface MarketConnectionsHandlers {
  onTrade(frame: TradeFrame, receivedAtMs: number, connection: string): void;
  onMalformed(raw: Buffer, error: FrameError, connection: string): void;
  /**
   * A connection of these streams is back (every subscription acknowledged) after the slot had
   * none open: frames sent meanwhile were lost, and the router probes the tails of the symbols
   * that stay silent (an outage at the end of a symbol's stream reveals no gap by itself).
   */
  onResumed?(streams: readonly string[], connection: string): void;
  /** A planned rotation replaced the connection of these streams (the router probes the silent ones' tails). */
  onRotated?(streams: readonly string[], connection: string): void;
}

interface Slot {
  readonly id: number;
  readonly label: string;
  readonly streams: Set<string>;
  readonly backoff: Backoff;
  current: Connection | undefined;
  successor: Connection | undefined;
  reconnectTimer: NodeJS.Timeout | undefined;
  rotateTimer: NodeJS.Timeout | undefined;
  overlapTimer: NodeJS.Timeout | undefined;
  /** Since when the slot has no open connection (undefined while it has one). */
  downSince: number | undefined;
  /** The current connection opened after the slot had none: report it once it is ready. */
  resuming: boolean;
}

export interface ConnectionStatus {
  readonly label: string;
  readonly open: boolean;
  readonly streams: number;
  readonly rotating: boolean;
  readonly downSinceMs: number | undefined;
}

export interface MarketStatus {
  readonly market: Market;
  readonly streams: number;
  readonly connectionsOpen: number;
  readonly connections: readonly ConnectionStatus[];
  /** Connections opened since start (reconnects and rotations included). */
  readonly opened: number;
}

export class MarketConnections {
  readonly market: Market;
  readonly #settings: MarketSettings;
  readonly #config: IngestConfig;
  readonly #log: Logger;
  readonly #metrics: IngestMetrics;
  readonly #handlers: MarketConnectionsHandlers;
  readonly #now: () => number;
  readonly #slots = new Map<number, Slot>();
  readonly #streamSlot = new Map<string, Slot>();
  readonly #owner = new Map<Connection, Slot>();
  #nextSlotId = 0;
  #opened = 0;
  #stopped = false;

  constructor(options: {
    market: Market;
    settings: MarketSettings;
    config: IngestConfig;
    logger: Logger;
    metrics: IngestMetrics;
    handlers: MarketConnectionsHandlers;
    now?: () => number;
  }) {
    this.market = options.market;
    this.#settings = options.settings;
    this.#config = options.config;
    this.#log = options.logger.child({ market: options.market });
    this.#metrics = options.metrics;
    this.#handlers = options.handlers;
    this.#now = options.now ?? Date.now;
  }

  /** Starts carrying these streams (already carried ones are ignored). */
  add(streams: readonly string[]): void {
    if (this.#stopped) return;
    const fresh = [...new Set(streams)].filter((s) => !this.#streamSlot.has(s));
    if (fresh.length === 0) return;
    const loads = [...this.#slots.values()].map((s) => ({ id: s.id, count: s.streams.size }));
    const plan = planAdditions(loads, fresh, this.#config.streamsPerConnection);
    for (const [slotId, list] of plan.toExisting) {
      const slot = this.#slots.get(slotId) as Slot;
      for (const s of list) {
        slot.streams.add(s);
        this.#streamSlot.set(s, slot);
      }
      slot.current?.subscribe(list);
      slot.successor?.subscribe(list);
      this.#log.info({ connection: slot.label, streams: list.length }, 'subscribing on an open connection');
    }
    for (const list of plan.newSlots) {
      const id = this.#nextSlotId++;
      const slot: Slot = {
        id,
        label: `${this.market}-${id}`,
        streams: new Set(list),
        backoff: new Backoff({ initialMs: this.#config.reconnectInitialMs, maxMs: this.#config.reconnectMaxMs }),
        current: undefined,
        successor: undefined,
        reconnectTimer: undefined,
        rotateTimer: undefined,
        overlapTimer: undefined,
        downSince: this.#now(),
        resuming: false,
      };
      this.#slots.set(id, slot);
      for (const s of list) this.#streamSlot.set(s, slot);
      this.#connect(slot);
    }
    this.#updateGauges();
  }

  /** Stops carrying these streams: live UNSUBSCRIBE; a slot left empty is closed. */
  remove(streams: readonly string[]): void {
    const bySlot = new Map<Slot, string[]>();
    for (const s of streams) {
      const slot = this.#streamSlot.get(s);
      if (slot === undefined) continue;
      this.#streamSlot.delete(s);
      slot.streams.delete(s);
      const list = bySlot.get(slot) ?? [];
      list.push(s);
      bySlot.set(slot, list);
    }
    for (const [slot, list] of bySlot) {
      if (slot.streams.size === 0) {
        this.#log.info({ connection: slot.label }, 'last stream removed: closing the connection');
        this.#closeSlot(slot);
        continue;
      }
      slot.current?.unsubscribe(list);
      slot.successor?.unsubscribe(list);
    }
    this.#updateGauges();
  }

  /** Starts a rotation of every slot now (what the lifetime timer does); for tests and ops. */
  rotateAll(): void {
    for (const slot of this.#slots.values()) this.#rotate(slot);
  }

  status(): MarketStatus {
    const connections = [...this.#slots.values()].map((s) => ({
      label: s.label,
      open: s.current?.isOpen === true,
      streams: s.streams.size,
      rotating: s.successor !== undefined,
      downSinceMs: s.downSince,
    }));
    return {
      market: this.market,
      streams: this.#streamSlot.size,
      connectionsOpen: connections.filter((c) => c.open).length,
      connections,
      opened: this.#opened,
    };
  }

  /** Healthy when no slot has been without an open connection for longer than `graceMs`. */
  healthy(graceMs: number): boolean {
    const now = this.#now();
    for (const s of this.#slots.values()) if (s.downSince !== undefined && now - s.downSince > graceMs) return false;
    return true;
  }

  /** Closes every connection (no reconnects afterwards); resolves when all are closed. */
  async close(timeoutMs = 5_000): Promise<void> {
    this.#stopped = true;
    const closing: Promise<void>[] = [];
    for (const slot of this.#slots.values()) closing.push(...this.#closeSlot(slot));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closing), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.#updateGauges();
  }

  #closeSlot(slot: Slot): Promise<void>[] {
    clearTimeout(slot.reconnectTimer);
    clearTimeout(slot.rotateTimer);
    clearTimeout(slot.overlapTimer);
    this.#slots.delete(slot.id);
    const closing: Promise<void>[] = [];
    for (const c of [slot.current, slot.successor]) if (c !== undefined) closing.push(c.close('local'));
    slot.current = undefined;
    slot.successor = undefined;
    return closing;
  }

  #newConnection(slot: Slot): Connection {
    const conn = new Connection({
      market: this.market,
      label: slot.label,
      wsBaseUrl: this.#settings.wsBaseUrl,
      streams: [...slot.streams],
      streamsPerConnection: this.#config.streamsPerConnection,
      urlStreams: this.#config.urlStreams,
      subscribeBatch: this.#config.subscribeBatch,
      messagesPerSecond: this.#settings.messagesPerSecond,
      silenceTimeoutMs: this.#config.silenceTimeoutMs,
      logger: this.#log,
      handlers: this.#connectionHandlers,
      now: this.#now,
    });
    this.#owner.set(conn, slot);
    return conn;
  }

  #connect(slot: Slot): void {
    if (this.#stopped || !this.#slots.has(slot.id)) return;
    slot.current = this.#newConnection(slot);
    slot.current.open();
  }

  #scheduleRotation(slot: Slot, conn: Connection): void {
    clearTimeout(slot.rotateTimer);
    const age = this.#now() - (conn.openedAt ?? this.#now());
    slot.rotateTimer = setTimeout(() => this.#rotate(slot), Math.max(0, this.#config.connectionLifetimeMs - age));
  }

  #rotate(slot: Slot): void {
    if (this.#stopped || !this.#slots.has(slot.id) || slot.successor !== undefined) return;
    this.#log.info({ connection: slot.label }, 'rotating: opening the replacement connection');
    slot.successor = this.#newConnection(slot);
    slot.successor.open();
  }

  #finishRotation(slot: Slot): void {
    slot.overlapTimer = undefined;
    const next = slot.successor;
    if (next === undefined || !next.isOpen) return;
    const old = slot.current;
    slot.current = next;
    slot.successor = undefined;
    slot.downSince = undefined;
    this.#metrics.rotations.inc({ market: this.market, connection: slot.label });
    this.#scheduleRotation(slot, next);
    this.#log.info({ connection: slot.label, old: old?.id, new: next.id }, 'rotation done: closing the old connection');
    void old?.close('local');
    this.#handlers.onRotated?.([...slot.streams], next.label);
  }

  #scheduleReconnect(slot: Slot, cause: CloseCause): void {
    if (this.#stopped || !this.#slots.has(slot.id) || slot.streams.size === 0) return;
    const delay = cause === 'server-shutdown' ? 0 : slot.backoff.next();
    this.#log.info({ connection: slot.label, cause, delayMs: delay, attempt: slot.backoff.attempt }, 'reconnecting');
    clearTimeout(slot.reconnectTimer);
    slot.reconnectTimer = setTimeout(() => this.#connect(slot), delay);
  }

  #updateGauges(): void {
    const s = this.status();
    this.#metrics.connectionsOpen.set({ market: this.market }, s.connectionsOpen);
    this.#metrics.streams.set({ market: this.market }, s.streams);
  }

  readonly #connectionHandlers: ConnectionHandlers = {
    onOpen: (conn) => {
      this.#opened += 1;
      this.#metrics.connectionsOpened.inc({ market: this.market });
      const slot = this.#owner.get(conn);
      if (slot !== undefined && slot.current === conn) {
        if (slot.downSince !== undefined) slot.resuming = true;
        slot.downSince = undefined;
        this.#scheduleRotation(slot, conn);
      }
      this.#updateGauges();
    },
    onReady: (conn) => {
      const slot = this.#owner.get(conn);
      if (slot === undefined) return;
      if (slot.current === conn && slot.resuming) {
        slot.resuming = false;
        this.#handlers.onResumed?.([...slot.streams], conn.label);
      }
      if (slot.successor === conn && slot.overlapTimer === undefined) {
        slot.overlapTimer = setTimeout(() => this.#finishRotation(slot), this.#config.rotationOverlapMs);
      }
    },
    onTrade: (conn, frame, receivedAtMs) => {
      const slot = this.#owner.get(conn);
      // Data flows: the connection works, so the next failure starts the backoff afresh.
      if (slot !== undefined && slot.current === conn && slot.backoff.attempt > 0) slot.backoff.reset();
      this.#metrics.connectionFrames.inc({ market: this.market, connection: conn.label });
      this.#handlers.onTrade(frame, receivedAtMs, conn.label);
    },
    onMalformed: (conn, raw, error) => this.#handlers.onMalformed(raw, error, conn.label),
    onRequestError: (conn, info) => {
      this.#metrics.requestErrors.inc({ market: this.market, connection: conn.label });
      this.#log.error({ connection: conn.label, ...info }, 'Binance refused a subscription request');
    },
    onClosed: (conn, info) => {
      const slot = this.#owner.get(conn);
      this.#owner.delete(conn);
      this.#updateGauges();
      if (slot === undefined || this.#stopped) return;
      if (info.cause !== 'local') {
        this.#metrics.reconnects.inc({ market: this.market, connection: slot.label, cause: info.cause });
      }
      if (slot.current === conn) {
        slot.current = undefined;
        slot.resuming = false;
        clearTimeout(slot.rotateTimer);
        const next = slot.successor;
        if (next !== undefined) {
          // Lost during a rotation: the replacement takes over right away.
          clearTimeout(slot.overlapTimer);
          slot.overlapTimer = undefined;
          slot.current = next;
          slot.successor = undefined;
          if (next.isOpen) this.#scheduleRotation(slot, next);
          else slot.downSince = this.#now();
          return;
        }
        slot.downSince = this.#now();
        if (info.cause !== 'local') this.#scheduleReconnect(slot, info.cause);
        return;
      }
      if (slot.successor === conn) {
        slot.successor = undefined;
        clearTimeout(slot.overlapTimer);
        slot.overlapTimer = undefined;
        if (info.cause !== 'local' && slot.current !== undefined) {
          const delay = slot.backoff.next();
          this.#log.warn({ connection: slot.label, delayMs: delay }, 'replacement connection failed: retrying the rotation');
          clearTimeout(slot.rotateTimer);
          slot.rotateTimer = setTimeout(() => this.#rotate(slot), delay);
        }
      }
    },
  };
}
