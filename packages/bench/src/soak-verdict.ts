/**
 * The soak's pure parts: its default sizes, and the memory verdict over RSS samples
 * (growth after warm-up against a stated bound, plus the slope, for the report).
 */

export const MINUTE_MS = 60_000;

export interface SoakSizes {
  durationMs: number;
  /** The aggregator's revision horizon during the soak (its state plateaus after it). */
  horizonMs: number;
  /** Not judged for memory: connections, JIT, the state filling up to the horizon. */
  warmupMs: number;
}

/**
 * Defaults from the duration: a long run (≥ 1 h) keeps the aggregator's default 10-minute
 * horizon; a short one (CI: 10 minutes) shortens it to 2 minutes so the state reaches its
 * plateau early and what follows can be judged. The warm-up is the horizon plus 3 minutes or
 * 30 % of the run, whichever is longer, capped at 15 minutes (a 10-minute soak measured the
 * aggregator's RSS flattening about 3 minutes after its horizon: the grace, snapshots and V8's
 * old space settle after the state does).
 */
export function soakSizes(durationMs: number, overrides: { horizonMs?: number; warmupMs?: number } = {}): SoakSizes {
  const horizonMs = overrides.horizonMs ?? (durationMs >= 60 * MINUTE_MS ? 10 * MINUTE_MS : 2 * MINUTE_MS);
  const warmupMs = overrides.warmupMs ?? Math.min(15 * MINUTE_MS, Math.max(horizonMs + 3 * MINUTE_MS, Math.round(durationMs * 0.3)));
  if (warmupMs >= durationMs) throw new RangeError(`the warm-up (${warmupMs / 1000} s) must be shorter than the run (${durationMs / 1000} s)`);
  return { durationMs, horizonMs, warmupMs };
}

export interface RssSample {
  atMs: number;
  rssBytes: number;
}

/** A process's RSS may exceed its warm-up level by this much: `limit = base × (1 + pct/100) + mb`. */
export interface RssBound {
  pct: number;
  mb: number;
}

export const DEFAULT_RSS_BOUND: RssBound = { pct: 25, mb: 32 };

export interface RssVerdict {
  /** The highest RSS in the last third of the warm-up (the level the state plateaued at). */
  baseMb: number;
  /** The highest RSS after the warm-up. */
  peakMb: number;
  limitMb: number;
  /** Least-squares slope of RSS after the warm-up, MB per hour (a leak shows here first). */
  slopeMbPerHour: number;
  samples: number;
  ok: boolean;
}

const MB = 1024 * 1024;
const r1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * Judges one process: `startMs` is when the run started, `warmupEndMs` when the warm-up ended.
 * Throws when there are no samples on either side (nothing to judge is not a pass).
 */
export function rssVerdict(samples: readonly RssSample[], startMs: number, warmupEndMs: number, bound: RssBound = DEFAULT_RSS_BOUND): RssVerdict {
  const lastThird = warmupEndMs - (warmupEndMs - startMs) / 3;
  const base = samples.filter((s) => s.atMs >= lastThird && s.atMs < warmupEndMs);
  const after = samples.filter((s) => s.atMs >= warmupEndMs);
  if (base.length === 0 || after.length === 0) throw new RangeError(`RSS verdict needs samples in the warm-up's last third and after it (got ${base.length} and ${after.length})`);
  const baseMb = Math.max(...base.map((s) => s.rssBytes)) / MB;
  const peakMb = Math.max(...after.map((s) => s.rssBytes)) / MB;
  const limitMb = baseMb * (1 + bound.pct / 100) + bound.mb;
  return { baseMb: r1(baseMb), peakMb: r1(peakMb), limitMb: r1(limitMb), slopeMbPerHour: r1(slopeMbPerHour(after)), samples: after.length, ok: peakMb <= limitMb };
}

function slopeMbPerHour(s: readonly RssSample[]): number {
  if (s.length < 2) return 0;
  const n = s.length;
  const mx = s.reduce((a, p) => a + p.atMs, 0) / n;
  const my = s.reduce((a, p) => a + p.rssBytes, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of s) {
    num += (p.atMs - mx) * (p.rssBytes - my);
    den += (p.atMs - mx) ** 2;
  }
  return den === 0 ? 0 : ((num / den) * 3_600_000) / MB;
}

/** `10m`, `2h`, `90s`, `1500ms` → milliseconds; a clear error otherwise. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim());
  if (!m) throw new RangeError(`expected a duration like 90s, 10m or 2h, got "${v}"`);
  const n = Number(m[1]) * ({ ms: 1, s: 1000, m: MINUTE_MS, h: 60 * MINUTE_MS } as const)[m[2] as 'ms' | 's' | 'm' | 'h'];
  if (!(n > 0)) throw new RangeError(`a duration must be > 0, got "${v}"`);
  return Math.round(n);
}
