/**
 * Faults on demand. Each fault is plain data (CLI-friendly); `market`/`symbol` narrow it.
 * Websocket faults act on data frames only; the ground truth and REST are unaffected except by
 * `rest-refuse`. Probabilistic choices use a PRNG seeded from `faultSeed`, so runs repeat.
 */
import { Prng } from './prng.js';
import type { Market, SimTrade } from './types.js';

export type MalformedVariant = 'invalid-json' | 'non-decimal-quantity' | 'binary';

interface Scope {
  /** Only this market. */
  market?: Market;
  /** Only this symbol (exchange spelling, e.g. `BTCUSDT`). */
  symbol?: string;
}

export type Fault =
  /** Close every matching connection now (one-shot). `abrupt` = TCP drop without close frame. */
  | { kind: 'disconnect'; market?: Market; abrupt?: boolean }
  /** Close each connection after every `frames` data frames it received. */
  | { kind: 'disconnect-every'; frames: number; market?: Market; abrupt?: boolean }
  /** Withhold trades from the websocket (still in the ground truth and served by REST):
   * the listed `ids`, and/or every `every`-th published trade, at most `count` in all. */
  | (Scope & { kind: 'skip'; ids?: readonly number[]; every?: number; count?: number })
  /** Send a data frame twice: every `every`-th frame per connection or with `probability`. */
  | (Scope & { kind: 'duplicate'; every?: number; probability?: number; count?: number })
  /** Shuffle data frames within windows of `window` frames (>= 2), at most `count` windows. */
  | (Scope & { kind: 'reorder'; window: number; count?: number })
  /** Insert a malformed frame before every `every`-th data frame (default 1), at most `count`.
   * `replace` drops the real frame (the trade then needs REST). */
  | (Scope & { kind: 'malformed'; variant: MalformedVariant; every?: number; count?: number; replace?: boolean; quantity?: string })
  /** Matching streams go silent; connections stay open. `scope: 'existing'` (default) hits the
   * connections open at injection (a reconnect heals), `'all'` also new ones. */
  | (Scope & { kind: 'silence'; durationMs?: number; scope?: 'existing' | 'all' })
  /** REST omits these ids from `aggTrades` answers (an unfillable hole). */
  | (Scope & { kind: 'rest-refuse'; ids?: readonly number[]; fromId?: number; toId?: number })
  /** Spot-style `{"e":"serverShutdown","E":...}` event, then close (one-shot). */
  | { kind: 'server-shutdown'; market?: Market };

export type FaultKind = Fault['kind'];

export class ActiveFault<F extends Fault = Fault> {
  /** Budget consumed (skips, duplicates, windows, malformed frames). */
  used = 0;
  /** Global counter (skip `every`). */
  counter = 0;
  readonly perConnection = new WeakMap<object, number>();
  readonly ids: ReadonlySet<number> | undefined;
  /** Silence `existing`: the connections it applies to. */
  targets: WeakSet<object> | undefined;
  removed = false;
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    readonly spec: F,
    readonly rng: Prng,
  ) {
    this.ids = 'ids' in spec && spec.ids !== undefined ? new Set(spec.ids) : undefined;
  }

  matches(market: Market, symbol?: string): boolean {
    if (this.removed) return false;
    if (this.spec.market !== undefined && this.spec.market !== market) return false;
    const s = 'symbol' in this.spec ? this.spec.symbol : undefined;
    return s === undefined || symbol === undefined || s === symbol;
  }

  withinBudget(): boolean {
    const count = 'count' in this.spec ? this.spec.count : undefined;
    return count === undefined || this.used < count;
  }

  /** Increments and returns this connection's counter. */
  tick(conn: object): number {
    const n = (this.perConnection.get(conn) ?? 0) + 1;
    this.perConnection.set(conn, n);
    return n;
  }
}

export class FaultRegistry {
  private faults: ActiveFault[] = [];
  private nextId = 1;

  constructor(private readonly seed: number) {}

  add(spec: Fault): ActiveFault {
    const f = new ActiveFault(this.nextId, spec, new Prng(this.seed, 1000 + this.nextId));
    this.nextId++;
    this.faults.push(f);
    return f;
  }

  remove(f: ActiveFault): void {
    f.removed = true;
    if (f.timer !== undefined) clearTimeout(f.timer);
    this.faults = this.faults.filter((x) => x !== f);
  }

  clear(): void {
    for (const f of [...this.faults]) this.remove(f);
  }

  of<K extends FaultKind>(kind: K, market: Market, symbol?: string): ActiveFault<Extract<Fault, { kind: K }>>[] {
    return this.faults.filter((f) => f.spec.kind === kind && f.matches(market, symbol)) as ActiveFault<
      Extract<Fault, { kind: K }>
    >[];
  }

  /** Is this published trade withheld from the websocket? */
  skipOnWs(t: SimTrade): boolean {
    let skip = false;
    for (const f of this.of('skip', t.market, t.symbol)) {
      if (f.ids?.has(t.a) === true) skip = true;
      const every = f.spec.every;
      if (every !== undefined && every > 0) {
        f.counter++;
        if (f.counter % every === 0 && f.withinBudget()) {
          f.used++;
          skip = true;
        }
      }
    }
    return skip;
  }

  restRefuses(market: Market, symbol: string, a: number): boolean {
    return this.of('rest-refuse', market, symbol).some(
      (f) =>
        f.ids?.has(a) === true ||
        ((f.spec.fromId !== undefined || f.spec.toId !== undefined) &&
          a >= (f.spec.fromId ?? -Infinity) &&
          a <= (f.spec.toId ?? Infinity)),
    );
  }
}
