/**
 * One client websocket: subscriptions, pings and the pong deadline, the message-rate and
 * stream caps, the forced lifetime disconnect, and the per-connection faults on data frames.
 */
import type { WebSocket } from 'ws';
import type { ActiveFault, Fault, FaultRegistry } from '../faults.js';
import type { MarketProtocolOptions } from '../market-profiles.js';
import type { Market } from '../types.js';
import { isControlError, parseControl, type ControlRequest } from './control.js';
import type { TradeFrames } from './frames.js';

/** Close codes the simulator uses (Binance documents none; these keep logs readable). */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
} as const;

export type CloseReason =
  | 'pong timeout'
  | 'too many messages'
  | 'too many streams'
  | 'connection lifetime exceeded'
  | 'fault: disconnect'
  | 'fault: disconnect-every'
  | 'server shutdown'
  | 'slow consumer'
  | 'simulator stopped';

export interface ConnectionHooks {
  onSubscribe(conn: SimConnection, streams: readonly string[]): void;
  onUnsubscribe(conn: SimConnection, streams: readonly string[]): void;
  onClosed(conn: SimConnection, reason: CloseReason | 'client closed'): void;
}

export interface ConnectionInit {
  id: number;
  market: Market;
  protocol: MarketProtocolOptions;
  faults: FaultRegistry;
  /** USD-M connection on a path that carries no aggTrade (e.g. `/ws`, `/public`): no data. */
  deaf: boolean;
  combined: boolean;
  micro: boolean;
  streams: readonly string[];
  /** Throttling data is the feed's job (`fast` pace); otherwise a full buffer drops the client. */
  dropSlowConsumers: boolean;
  hooks: ConnectionHooks;
}

interface Pending {
  payload: string;
  sentAt: number;
}

interface OutFrame {
  data: string | Buffer;
  binary: boolean;
}

export class SimConnection {
  readonly id: number;
  readonly market: Market;
  readonly deaf: boolean;
  readonly openedAt = Date.now();
  combined: boolean;
  readonly micro: boolean;
  /** Data frames sent (real, duplicate and malformed). */
  dataFrames = 0;
  /** Client messages received (text, binary, ping, pong). */
  clientMessages = 0;
  closedReason: CloseReason | 'client closed' | undefined;
  private readonly subs: string[] = [];
  private readonly subSet = new Set<string>();
  private readonly recent: number[] = [];
  private readonly pendingPings: Pending[] = [];
  private pingSeq = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private pongTimer: NodeJS.Timeout | undefined;
  private reorderBuf: OutFrame[] = [];
  private reorderFault: ActiveFault | undefined;
  private reorderTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly init: ConnectionInit,
  ) {
    this.id = init.id;
    this.market = init.market;
    this.deaf = init.deaf;
    this.combined = init.combined;
    this.micro = init.micro;
    const p = init.protocol;
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('ping', () => this.countMessage());
    ws.on('pong', (data) => this.onPong(data));
    ws.on('close', () => this.onClose());
    ws.on('error', () => undefined); // 'close' follows
    this.timers.push(setInterval(() => this.sendPing(), p.pingIntervalMs));
    this.timers.push(setTimeout(() => this.close('connection lifetime exceeded'), p.connectionLifetimeMs));
    if (init.streams.length > p.maxStreamsPerConnection) {
      this.close('too many streams');
      return;
    }
    this.addStreams(init.streams);
  }

  get subscriptions(): readonly string[] {
    return this.subs;
  }

  get open(): boolean {
    return !this.closing && this.ws.readyState === this.ws.OPEN;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  isSubscribed(stream: string): boolean {
    return this.subSet.has(stream);
  }

  /** A published trade for a stream this connection holds. */
  deliver(frames: TradeFrames): void {
    if (!this.open || this.deaf) return;
    const t = frames.trade;
    const faults = this.init.faults;
    for (const f of faults.of('silence', this.market, t.symbol)) {
      if (f.spec.scope === 'all' || f.targets?.has(this) === true) return;
    }
    if (this.init.dropSlowConsumers && this.ws.bufferedAmount > this.init.protocol.maxBufferedBytes) {
      this.close('slow consumer', true);
      return;
    }
    let dropReal = false;
    for (const f of faults.of('malformed', this.market, t.symbol)) {
      const every = Math.max(1, f.spec.every ?? 1);
      if (f.tick(this) % every !== 0 || !f.withinBudget()) continue;
      f.used++;
      this.enqueue(this.malformed(frames, f.spec));
      if (f.spec.replace === true) dropReal = true;
    }
    if (dropReal) return;
    const text = frames.text(this.combined, this.micro);
    this.enqueue({ data: text, binary: false });
    for (const f of faults.of('duplicate', this.market, t.symbol)) {
      const n = f.tick(this);
      const hit =
        f.spec.every !== undefined ? n % Math.max(1, f.spec.every) === 0 : f.rng.next() < (f.spec.probability ?? 0);
      if (hit && f.withinBudget()) {
        f.used++;
        this.enqueue({ data: text, binary: false });
      }
    }
  }

  /** Sends a text event outside the data path (e.g. serverShutdown). */
  sendEvent(event: unknown): void {
    if (this.open) this.ws.send(JSON.stringify(event));
  }

  close(reason: CloseReason, abrupt = false): void {
    if (this.closing) return;
    this.closing = true;
    this.closedReason = reason;
    this.flushReorder();
    this.clearTimers();
    if (abrupt) {
      this.ws.terminate();
      return;
    }
    const code =
      reason === 'connection lifetime exceeded' || reason === 'server shutdown' || reason === 'simulator stopped'
        ? CLOSE_CODES.goingAway
        : reason.startsWith('fault')
          ? CLOSE_CODES.normal
          : CLOSE_CODES.policy;
    this.ws.close(code, reason);
    // A client that never answers the close handshake is cut off.
    const t = setTimeout(() => this.ws.terminate(), 1000);
    t.unref();
  }

  private malformed(frames: TradeFrames, spec: Extract<Fault, { kind: 'malformed' }>): OutFrame {
    const text = frames.text(this.combined, this.micro);
    switch (spec.variant) {
      case 'invalid-json':
        return { data: text.slice(0, Math.max(1, Math.floor(text.length / 2))), binary: false };
      case 'binary':
        return { data: Buffer.from(text, 'utf8'), binary: true };
      case 'non-decimal-quantity': {
        const e = { ...frames.event(this.micro), q: spec.quantity ?? '1e-3' };
        return { data: JSON.stringify(this.combined ? { stream: frames.stream, data: e } : e), binary: false };
      }
    }
  }

  private enqueue(frame: OutFrame): void {
    const faults = this.init.faults;
    if (this.reorderFault === undefined || this.reorderFault.removed) {
      this.reorderFault = faults.of('reorder', this.market).find((f) => f.withinBudget());
    }
    const rf = this.reorderFault as ActiveFault<Extract<Fault, { kind: 'reorder' }>> | undefined;
    if (rf === undefined) {
      this.flushReorder();
      this.send(frame);
      return;
    }
    this.reorderBuf.push(frame);
    if (this.reorderBuf.length >= Math.max(2, rf.spec.window)) {
      rf.used++;
      const buf = this.reorderBuf;
      const orig = [...buf];
      // Fisher–Yates; an identity permutation would not be a reorder, so swap the first two.
      for (let i = buf.length - 1; i > 0; i--) {
        const j = rf.rng.int(i + 1);
        [buf[i], buf[j]] = [buf[j] as OutFrame, buf[i] as OutFrame];
      }
      if (buf.every((f, i) => f === orig[i])) [buf[0], buf[1]] = [buf[1] as OutFrame, buf[0] as OutFrame];
      this.flushReorder();
      this.reorderFault = undefined;
    } else if (this.reorderTimer === undefined) {
      // Never hold frames back for long: flush a partial window.
      this.reorderTimer = setTimeout(() => this.flushReorder(), 50);
    }
  }

  private flushReorder(): void {
    if (this.reorderTimer !== undefined) {
      clearTimeout(this.reorderTimer);
      this.reorderTimer = undefined;
    }
    const buf = this.reorderBuf;
    this.reorderBuf = [];
    for (const f of buf) this.send(f);
  }

  private send(frame: OutFrame): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(frame.data, { binary: frame.binary });
    this.dataFrames++;
    for (const f of this.init.faults.of('disconnect-every', this.market)) {
      if (f.spec.frames > 0 && f.tick(this) % f.spec.frames === 0) {
        this.close('fault: disconnect-every', f.spec.abrupt === true);
        return;
      }
    }
  }

  private countMessage(): boolean {
    this.clientMessages++;
    const now = Date.now();
    this.recent.push(now);
    while (this.recent.length > 0 && (this.recent[0] as number) <= now - 1000) this.recent.shift();
    if (this.recent.length > this.init.protocol.maxMessagesPerSecond) {
      this.close('too many messages');
      return false;
    }
    return true;
  }

  private onMessage(data: unknown, isBinary: boolean): void {
    if (!this.countMessage() || this.closing) return;
    const text = isBinary ? '' : String(data);
    const req = parseControl(text);
    if (isControlError(req)) {
      this.ws.send(JSON.stringify(req));
      return;
    }
    this.handle(req);
  }

  private handle(req: ControlRequest): void {
    switch (req.method) {
      case 'SUBSCRIBE': {
        const fresh = [...new Set(req.params)].filter((s) => !this.subSet.has(s));
        if (this.subs.length + fresh.length > this.init.protocol.maxStreamsPerConnection) {
          this.close('too many streams');
          return;
        }
        this.addStreams(fresh);
        this.reply(null, req.id);
        return;
      }
      case 'UNSUBSCRIBE': {
        const gone = req.params.filter((s) => this.subSet.delete(s));
        if (gone.length > 0) {
          const keep = this.subs.filter((s) => this.subSet.has(s));
          this.subs.splice(0, this.subs.length, ...keep);
          this.init.hooks.onUnsubscribe(this, gone);
        }
        this.reply(null, req.id);
        return;
      }
      case 'LIST_SUBSCRIPTIONS':
        this.reply([...this.subs], req.id);
        return;
      case 'SET_PROPERTY':
        this.combined = req.value;
        this.reply(null, req.id);
        return;
      case 'GET_PROPERTY':
        this.reply(this.combined, req.id);
        return;
    }
  }

  private reply(result: unknown, id: unknown): void {
    this.ws.send(JSON.stringify({ result, id }));
  }

  private addStreams(streams: readonly string[]): void {
    const fresh = streams.filter((s) => !this.subSet.has(s));
    for (const s of fresh) {
      this.subSet.add(s);
      this.subs.push(s);
    }
    if (fresh.length > 0) this.init.hooks.onSubscribe(this, fresh);
  }

  private sendPing(): void {
    if (!this.open) return;
    const payload = String(++this.pingSeq);
    this.pendingPings.push({ payload, sentAt: Date.now() });
    this.ws.ping(payload);
    if (this.pongTimer === undefined) this.armPongDeadline();
  }

  /** Only a pong echoing an outstanding ping's payload answers it (unsolicited pongs don't). */
  private onPong(data: Buffer): void {
    if (!this.countMessage()) return;
    const payload = data.toString('utf8');
    const i = this.pendingPings.findIndex((p) => p.payload === payload);
    if (i < 0) return;
    this.pendingPings.splice(0, i + 1);
    this.armPongDeadline();
  }

  private armPongDeadline(): void {
    if (this.pongTimer !== undefined) clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    const oldest = this.pendingPings[0];
    if (oldest === undefined || this.closing) return;
    const due = oldest.sentAt + this.init.protocol.pongTimeoutMs - Date.now();
    this.pongTimer = setTimeout(() => this.close('pong timeout'), Math.max(0, due));
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.length = 0;
    if (this.pongTimer !== undefined) clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  private onClose(): void {
    this.clearTimers();
    if (this.reorderTimer !== undefined) clearTimeout(this.reorderTimer);
    this.closing = true;
    if (this.closedReason === undefined) this.closedReason = 'client closed';
    if (this.subs.length > 0) this.init.hooks.onUnsubscribe(this, [...this.subs]);
    this.init.hooks.onClosed(this, this.closedReason);
  }
}
