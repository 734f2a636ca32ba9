/**
 * One websocket to a Binance combined-stream endpoint: live SUBSCRIBE/UNSUBSCRIBE, pongs,
 * message pacing and the silence watchdog. It is one attempt: once closed it stays closed and
 * its owner (a slot in `market-connections.ts`) decides about reconnecting or rotating.
 *
 * Pongs: `ws` answers pings itself by default (echoing the payload), but such pongs would not
 * be counted against Binance's per-connection message rate, so auto-pong is off and every pong
 * goes through the same paced queue as SUBSCRIBE requests, ahead of them.
 */
import WebSocket from 'ws';
import {
  combinedStreamUrl,
  parseFrame,
  subscribeMessage,
  unsubscribeMessage,
  type FrameError,
  type TradeFrame,
} from '@cvd/binance';
import type { Market } from '@cvd/core';
import type { Logger } from '@cvd/common';
import { chunk, splitInitialStreams } from './plan.js';
import { PacedQueue, RatePacer } from './pacer.js';

/** Why a connection closed. */
export type CloseCause =
  /** We closed it (rotation, removal, shutdown). */
  | 'local'
  /** The server closed it, or the TCP connection dropped. */
  | 'remote'
  /** No data frame within the silence timeout. */
  | 'silence'
  /** Spot `serverShutdown` event: reconnect at once. */
  | 'server-shutdown';

export interface ConnectionHandlers {
  onTrade(conn: Connection, frame: TradeFrame, receivedAtMs: number): void;
  onMalformed(conn: Connection, raw: Buffer, error: FrameError): void;
  onOpen(conn: Connection): void;
  /** Every stream this connection should carry has been acknowledged (URL or SUBSCRIBE). */
  onReady(conn: Connection): void;
  /** Binance refused a request (`{"error":...}`). */
  onRequestError(conn: Connection, info: { method: string; streams: readonly string[]; code: number; msg: string }): void;
  onClosed(conn: Connection, info: { cause: CloseCause; code: number; reason: string; wasOpen: boolean }): void;
}

export interface ConnectionOptions {
  readonly market: Market;
  /** Stable name of the logical connection (`spot-0`), for logs and metrics. */
  readonly label: string;
  readonly wsBaseUrl: string;
  readonly streams: readonly string[];
  readonly streamsPerConnection: number;
  readonly urlStreams: number;
  readonly subscribeBatch: number;
  readonly messagesPerSecond: number;
  readonly silenceTimeoutMs: number;
  readonly logger: Logger;
  readonly handlers: ConnectionHandlers;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

/**
 * Largest websocket message accepted (the `ws` default is 100 MiB). An aggTrade is ~250 bytes
 * and the parser refuses frames above 64 KiB anyway; a bigger message closes the connection
 * (1009) before it is buffered, is reported through `onMalformed` as `too-large`, and the
 * reconnect plus REST backfill recover the trades after it.
 */
export const MAX_WS_PAYLOAD_BYTES = 1024 * 1024;

let nextConnectionId = 1;

export class Connection {
  /** Unique per attempt (a reconnect or rotation gets a new one). */
  readonly id = nextConnectionId++;
  readonly market: Market;
  readonly label: string;
  readonly #o: ConnectionOptions;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #streams: Set<string>;
  readonly #acked = new Set<string>();
  readonly #requests = new Map<number, { method: 'SUBSCRIBE' | 'UNSUBSCRIBE'; streams: readonly string[] }>();
  readonly #queue: PacedQueue;
  #ws: WebSocket | undefined;
  #nextRequestId = 1;
  #open = false;
  #closing: CloseCause | undefined;
  #finished = false;
  #ready = false;
  #lastDataAt = 0;
  #openedAt: number | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #terminateTimer: NodeJS.Timeout | undefined;
  #closedPromise: Promise<void>;
  #resolveClosed!: () => void;

  constructor(options: ConnectionOptions) {
    this.#o = options;
    this.market = options.market;
    this.label = options.label;
    this.#now = options.now ?? Date.now;
    this.#streams = new Set(options.streams);
    this.#log = options.logger.child({ market: options.market, connection: options.label, connId: this.id });
    // Pacing is per connection: Binance counts messages per connection.
    this.#queue = new PacedQueue(new RatePacer({ maxPerWindow: options.messagesPerSecond }), { now: this.#now });
    this.#closedPromise = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  get isOpen(): boolean {
    return this.#open && this.#closing === undefined;
  }

  get isReady(): boolean {
    return this.#ready;
  }

  get openedAt(): number | undefined {
    return this.#openedAt;
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  /** Resolves once the socket is closed (or never opened). */
  get closed(): Promise<void> {
    return this.#closedPromise;
  }

  /** Opens the socket with the first `urlStreams` streams in the URL. */
  open(): void {
    if (this.#ws !== undefined || this.#finished) return;
    const initial = splitInitialStreams([...this.#streams], this.#o.urlStreams, this.#o.subscribeBatch);
    const url = combinedStreamUrl(this.market, initial.url, {
      wsBaseUrl: this.#o.wsBaseUrl,
      streamsPerConnection: this.#o.streamsPerConnection,
    });
    this.#log.info({ url: url.length > 300 ? `${url.slice(0, 300)}…` : url, streams: this.#streams.size }, 'connecting');
    const ws = new WebSocket(url, { autoPong: false, perMessageDeflate: false, handshakeTimeout: 15_000, maxPayload: MAX_WS_PAYLOAD_BYTES });
    this.#ws = ws;
    ws.on('open', () => this.#onOpen(initial.url));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.on('ping', (payload: Buffer) => {
      this.#queue.push({
        kind: 'pong',
        send: () => {
          if (ws.readyState === WebSocket.OPEN) ws.pong(payload);
        },
      });
    });
    ws.on('error', (err) => {
      if ((err as { code?: unknown }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        // ws closes with 1009 and never hands us the bytes: count and dead-letter the fact.
        this.#o.handlers.onMalformed(this, Buffer.alloc(0), {
          kind: 'error',
          code: 'too-large',
          reason: `websocket message above the ${MAX_WS_PAYLOAD_BYTES}-byte limit: connection closed (1009), trades after it are backfilled`,
        });
      }
      this.#log.warn({ err }, 'websocket error');
    });
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(code, reason.toString('utf8')));
  }

  /** Adds streams; on an open connection they are SUBSCRIBEd live (paced, batched). */
  subscribe(streams: readonly string[]): void {
    const fresh = streams.filter((s) => !this.#streams.has(s));
    for (const s of fresh) this.#streams.add(s);
    if (fresh.length === 0) return;
    this.#ready = false;
    if (this.isOpen) this.#request('SUBSCRIBE', fresh);
  }

  /** Removes streams; on an open connection they are UNSUBSCRIBEd live. */
  unsubscribe(streams: readonly string[]): void {
    const gone = streams.filter((s) => this.#streams.delete(s));
    if (gone.length > 0 && this.isOpen) this.#request('UNSUBSCRIBE', gone);
    this.#checkReady();
  }

  /** Closes (idempotent); `cause` is reported to `onClosed`. */
  close(cause: CloseCause = 'local'): Promise<void> {
    if (this.#finished) return this.#closedPromise;
    this.#closing ??= cause;
    this.#queue.close();
    this.#stopWatchdog();
    const ws = this.#ws;
    if (ws === undefined) {
      this.#finish(1000, 'never opened', false);
    } else if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
    } else if (ws.readyState === WebSocket.OPEN) {
      ws.close(1000, cause);
      // A server that never answers the close handshake is cut off.
      this.#terminateTimer = setTimeout(() => ws.terminate(), 2_000);
    }
    return this.#closedPromise;
  }

  #onOpen(urlStreams: readonly string[]): void {
    if (this.#closing !== undefined) return;
    this.#open = true;
    this.#openedAt = this.#now();
    this.#lastDataAt = this.#now();
    for (const s of urlStreams) if (this.#streams.has(s)) this.#acked.add(s);
    // Streams not in the URL (too many, or added while connecting) are subscribed now.
    const rest = [...this.#streams].filter((s) => !this.#acked.has(s));
    if (rest.length > 0) this.#request('SUBSCRIBE', rest);
    // Streams removed while connecting but present in the URL.
    const stale = urlStreams.filter((s) => !this.#streams.has(s));
    if (stale.length > 0) this.#request('UNSUBSCRIBE', stale);
    const every = Math.max(100, Math.min(5_000, Math.floor(this.#o.silenceTimeoutMs / 4)));
    this.#watchdog = setInterval(() => this.#checkSilence(), every);
    this.#log.info({ streams: this.#streams.size, subscribing: rest.length }, 'connected');
    this.#o.handlers.onOpen(this);
    this.#checkReady();
  }

  #request(method: 'SUBSCRIBE' | 'UNSUBSCRIBE', streams: readonly string[]): void {
    for (const part of chunk(streams, this.#o.subscribeBatch)) {
      const id = this.#nextRequestId++;
      this.#requests.set(id, { method, streams: part });
      const text = method === 'SUBSCRIBE' ? subscribeMessage(part, id) : unsubscribeMessage(part, id);
      this.#queue.push({
        kind: 'request',
        send: () => {
          const ws = this.#ws;
          if (ws !== undefined && ws.readyState === WebSocket.OPEN) ws.send(text);
        },
      });
    }
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    const receivedAtMs = this.#now();
    if (isBinary) {
      // Binance sends text only; a binary frame is malformed even if its bytes are JSON.
      this.#o.handlers.onMalformed(this, data, { kind: 'error', code: 'binary', reason: 'binary websocket frame' });
      return;
    }
    const r = parseFrame(this.market, data);
    switch (r.kind) {
      case 'trade':
        this.#lastDataAt = receivedAtMs;
        this.#o.handlers.onTrade(this, r, receivedAtMs);
        return;
      case 'error':
        this.#o.handlers.onMalformed(this, data, r);
        return;
      case 'control':
        this.#onControl(r);
        return;
    }
  }

  #onControl(r: Exclude<ReturnType<typeof parseFrame>, TradeFrame | FrameError>): void {
    switch (r.type) {
      case 'serverShutdown':
        this.#log.warn({ eventTimeMs: r.eventTimeMs }, 'serverShutdown: reconnecting at once');
        void this.close('server-shutdown');
        return;
      case 'ack': {
        const req = typeof r.id === 'number' ? this.#requests.get(r.id) : undefined;
        if (req === undefined) return;
        this.#requests.delete(r.id as number);
        for (const s of req.streams) {
          if (req.method === 'SUBSCRIBE' && this.#streams.has(s)) this.#acked.add(s);
          if (req.method === 'UNSUBSCRIBE') this.#acked.delete(s);
        }
        this.#checkReady();
        return;
      }
      case 'requestError': {
        const req = typeof r.id === 'number' ? this.#requests.get(r.id) : undefined;
        if (typeof r.id === 'number') this.#requests.delete(r.id);
        this.#o.handlers.onRequestError(this, {
          method: req?.method ?? 'unknown',
          streams: req?.streams ?? [],
          code: r.code,
          msg: r.msg,
        });
        return;
      }
      default:
        return;
    }
  }

  #checkReady(): void {
    if (this.#ready || !this.isOpen) return;
    for (const s of this.#streams) if (!this.#acked.has(s)) return;
    this.#ready = true;
    this.#o.handlers.onReady(this);
  }

  #checkSilence(): void {
    if (!this.isOpen || this.#streams.size === 0) return;
    const silentMs = this.#now() - this.#lastDataAt;
    if (silentMs < this.#o.silenceTimeoutMs) return;
    const hint =
      this.market === 'usdm'
        ? ' (USD-M aggTrade is only served under /market: a connection on another path is silent without error; check BINANCE_USDM_WS_URL)'
        : '';
    this.#log.warn({ silentMs, streams: this.#streams.size }, `no data frame for ${silentMs} ms: reconnecting${hint}`);
    void this.close('silence');
  }

  #stopWatchdog(): void {
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
  }

  #onClose(code: number, reason: string): void {
    const wasOpen = this.#open;
    this.#finish(code, reason, wasOpen);
  }

  #finish(code: number, reason: string, wasOpen: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#open = false;
    this.#queue.close();
    this.#stopWatchdog();
    if (this.#terminateTimer !== undefined) clearTimeout(this.#terminateTimer);
    const cause = this.#closing ?? 'remote';
    this.#closing = cause;
    this.#log.info({ code, reason, cause, wasOpen }, 'connection closed');
    this.#resolveClosed();
    this.#o.handlers.onClosed(this, { cause, code, reason, wasOpen });
  }
}
