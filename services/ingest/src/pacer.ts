/**
 * Client message pacing (pure, clock passed in). Binance disconnects a client that sends more
 * than N messages (text, ping, pong) in a second — 5 on spot, 10 on futures — and repeated
 * offences can ban the IP. Every outgoing message of a connection goes through one pacer:
 * a sliding window that allows at most `maxPerWindow` messages in any `windowMs`. The window
 * is a little longer than a second by default to absorb timing jitter between the two ends.
 */

export interface PacerOptions {
  /** Messages allowed per window. */
  readonly maxPerWindow: number;
  /** @defaultValue 1100 (1 s plus a safety margin) */
  readonly windowMs?: number;
}

export class RatePacer {
  readonly maxPerWindow: number;
  readonly windowMs: number;
  /** Send times inside the current window, oldest first. */
  readonly #sent: number[] = [];

  constructor(options: PacerOptions) {
    if (!Number.isInteger(options.maxPerWindow) || options.maxPerWindow < 1) {
      throw new RangeError(`maxPerWindow must be a positive integer, got ${options.maxPerWindow}`);
    }
    this.maxPerWindow = options.maxPerWindow;
    this.windowMs = options.windowMs ?? 1100;
  }

  /** Milliseconds to wait until one more message may be sent at `now` (0 = now). */
  delay(now: number): number {
    this.#expire(now);
    if (this.#sent.length < this.maxPerWindow) return 0;
    const oldest = this.#sent[0] as number;
    return Math.max(1, oldest + this.windowMs - now);
  }

  /** Records a message sent at `now`. */
  record(now: number): void {
    this.#expire(now);
    this.#sent.push(now);
  }

  /** Messages counted in the window ending at `now`. */
  inWindow(now: number): number {
    this.#expire(now);
    return this.#sent.length;
  }

  #expire(now: number): void {
    while (this.#sent.length > 0 && (this.#sent[0] as number) <= now - this.windowMs) this.#sent.shift();
  }
}

/** An outgoing message waiting for the pacer. Pongs jump the queue (their deadline is the server's). */
export interface QueuedMessage {
  readonly kind: 'pong' | 'request';
  readonly send: () => void;
}

/**
 * A FIFO of messages released through a {@link RatePacer}; pongs go first. Timer functions are
 * injected so the queue is testable without real time.
 */
export class PacedQueue {
  readonly #pacer: RatePacer;
  readonly #now: () => number;
  readonly #setTimer: (fn: () => void, ms: number) => unknown;
  readonly #clearTimer: (t: unknown) => void;
  readonly #queue: QueuedMessage[] = [];
  #timer: unknown;
  #closed = false;

  constructor(
    pacer: RatePacer,
    clock: {
      readonly now: () => number;
      readonly setTimer?: (fn: () => void, ms: number) => unknown;
      readonly clearTimer?: (t: unknown) => void;
    },
  ) {
    this.#pacer = pacer;
    this.#now = clock.now;
    this.#setTimer = clock.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.#clearTimer = clock.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  }

  get pending(): number {
    return this.#queue.length;
  }

  push(message: QueuedMessage): void {
    if (this.#closed) return;
    if (message.kind === 'pong') {
      const firstRequest = this.#queue.findIndex((m) => m.kind !== 'pong');
      this.#queue.splice(firstRequest < 0 ? this.#queue.length : firstRequest, 0, message);
    } else {
      this.#queue.push(message);
    }
    this.pump();
  }

  /** Sends what the pacer allows now and arms a timer for the rest. */
  pump(): void {
    if (this.#closed || this.#timer !== undefined) return;
    while (this.#queue.length > 0) {
      const now = this.#now();
      const wait = this.#pacer.delay(now);
      if (wait > 0) {
        this.#timer = this.#setTimer(() => {
          this.#timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      const next = this.#queue.shift() as QueuedMessage;
      this.#pacer.record(now);
      next.send();
    }
  }

  /** Drops everything queued and stops the timer. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    if (this.#timer !== undefined) this.#clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
