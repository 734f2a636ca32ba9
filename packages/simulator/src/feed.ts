/**
 * Paces a merged trade iterator onto the market: real time, a speed factor, or as fast as the
 * clients read (`fast`: waits while a subscribed connection's `bufferedAmount` is above the
 * high-water mark). Trade time maps to wall time from the first trade on; pauses shift it.
 */
import type { SimTrade } from './types.js';

export type PaceOptions =
  | { mode: 'realtime' }
  | { mode: 'speed'; factor: number }
  | {
      mode: 'fast';
      /** Wait while a subscribed connection buffers more than this. @defaultValue 1 MiB */
      highWaterMarkBytes?: number;
    };

export class Feed {
  private started = false;
  private paused = false;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private resolveFinished!: () => void;
  /** Resolves when the source is exhausted (every trade published) or the feed stopped. */
  readonly finished: Promise<void>;
  published = 0;
  exhausted = false;

  constructor(
    private readonly iter: Iterator<SimTrade>,
    private readonly pace: PaceOptions,
    private readonly publish: (t: SimTrade) => void,
    /** True while the trade's subscribers can't take more (fast pace only). */
    private readonly blocked: (t: SimTrade) => boolean,
  ) {
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  get running(): boolean {
    return this.started && !this.paused && !this.stopped;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.run();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.wake();
    this.resolveFinished();
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const speed = this.pace.mode === 'realtime' ? 1 : this.pace.mode === 'speed' ? this.pace.factor : Infinity;
    let t0: number | undefined;
    let wall0 = 0;
    let pausedAt: number | undefined;
    let sinceYield = 0;
    let head = this.iter.next();
    while (!this.stopped && head.done !== true) {
      if (this.paused) {
        pausedAt ??= Date.now();
        await this.sleep(1000);
        continue;
      }
      if (pausedAt !== undefined) {
        wall0 += Date.now() - pausedAt;
        pausedAt = undefined;
      }
      const t = head.value;
      if (speed === Infinity) {
        if (this.blocked(t)) {
          sinceYield = 0;
          await this.sleep(2);
          continue;
        }
      } else {
        if (t0 === undefined) {
          t0 = t.Tus;
          wall0 = Date.now();
        }
        const wait = wall0 + (t.Tus - t0) / 1000 / speed - Date.now();
        if (wait >= 1) {
          sinceYield = 0;
          await this.sleep(Math.min(wait, 1000));
          continue;
        }
      }
      this.publish(t);
      this.published++;
      head = this.iter.next();
      // Let sockets flush and timers run during long synchronous stretches.
      if (++sinceYield >= 256) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    this.exhausted = head.done === true;
    this.resolveFinished();
  }
}
