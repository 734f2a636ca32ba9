/**
 * Event-loop delay per service: every service exports prom-client's default metrics, whose
 * `cvd_nodejs_eventloop_lag_*` gauges come from `perf_hooks.monitorEventLoopDelay` (10 ms
 * resolution) and are reset on every scrape. Scraping at a fixed interval therefore gives the
 * worst stall and the p99 delay of each interval; the watch keeps the worst of both.
 */
import type { PromSample } from './prom.js';

export interface EventLoopDelay {
  /** Worst single delay over the run, ms. */
  maxMs: number;
  /** Worst per-interval p99 delay, ms. */
  p99Ms: number;
  /** Scrapes that returned the gauges. */
  samples: number;
}

export function readEventLoop(samples: readonly PromSample[]): { maxMs: number; p99Ms: number } | undefined {
  const get = (n: string): number | undefined => samples.find((s) => s.name === n)?.value;
  const max = get('cvd_nodejs_eventloop_lag_max_seconds');
  const p99 = get('cvd_nodejs_eventloop_lag_p99_seconds');
  if (max === undefined || p99 === undefined || !Number.isFinite(max) || !Number.isFinite(p99)) return undefined;
  return { maxMs: max * 1000, p99Ms: p99 * 1000 };
}

export class EventLoopWatch {
  private readonly worst = new Map<string, EventLoopDelay>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly labels: () => string[],
    private readonly scrape: (label: string) => Promise<PromSample[]>,
    private readonly intervalMs = 2000,
  ) {}

  /** Starts scraping; the first scrape discards what accumulated before (start-up). */
  async start(): Promise<void> {
    await this.tick(false);
    this.timer = setInterval(() => void this.tick(true), this.intervalMs);
  }

  private async tick(keep: boolean): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await Promise.all(
        this.labels().map(async (label) => {
          const e = readEventLoop(await this.scrape(label));
          if (!e || !keep) return;
          const w = this.worst.get(label) ?? { maxMs: 0, p99Ms: 0, samples: 0 };
          this.worst.set(label, { maxMs: Math.max(w.maxMs, e.maxMs), p99Ms: Math.max(w.p99Ms, e.p99Ms), samples: w.samples + 1 });
        }),
      );
    } finally {
      this.busy = false;
    }
  }

  /** Stops after one last scrape (the interval since the previous one counts). */
  async stop(): Promise<Record<string, EventLoopDelay>> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 10));
    await this.tick(true);
    const out: Record<string, EventLoopDelay> = {};
    for (const [label, w] of this.worst) out[label.replace(/-0$/, '')] = { maxMs: Math.round(w.maxMs * 10) / 10, p99Ms: Math.round(w.p99Ms * 10) / 10, samples: w.samples };
    return out;
  }
}
