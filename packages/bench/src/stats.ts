/** Pure statistics helpers used by the bench (unit-tested; no I/O). */

/** The q-quantile (0..1) of already sorted values, nearest-rank; NaN when empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.ceil(q * n);
  const i = Math.min(n - 1, Math.max(0, rank - 1));
  return sorted[i] as number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** p50/p99/p99.9/max/mean of raw samples (copied and sorted). */
export function percentiles(values: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50: quantileSorted(sorted, 0.5),
    p99: quantileSorted(sorted, 0.99),
    p999: quantileSorted(sorted, 0.999),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** A cumulative histogram bucket: `count` observations were ≤ `le` (Prometheus style). */
export interface Bucket {
  le: number;
  count: number;
}

/**
 * The q-quantile of a cumulative histogram, interpolated linearly inside the bucket that holds
 * it (what Prometheus' `histogram_quantile` does). Observations above the largest finite bound
 * report that bound. NaN when the histogram is empty.
 */
export function histogramQuantile(buckets: readonly Bucket[], q: number): number {
  const b = [...buckets].sort((x, y) => x.le - y.le);
  const total = b.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const { le, count } of b) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      if (count === prevCount) return le;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** Adds histograms bucket by bucket (same bounds; e.g. several replicas). */
export function sumBuckets(histograms: readonly (readonly Bucket[])[]): Bucket[] {
  const m = new Map<number, number>();
  for (const h of histograms) for (const { le, count } of h) m.set(le, (m.get(le) ?? 0) + count);
  return [...m].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** Per-interval rates of a cumulative counter sampled over time: [{ atMs, perSecond }]. */
export function rates(samples: readonly { atMs: number; value: number }[]): { atMs: number; perSecond: number }[] {
  const out: { atMs: number; perSecond: number }[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const dt = b.atMs - a.atMs;
    if (dt > 0) out.push({ atMs: b.atMs, perSecond: ((b.value - a.value) * 1000) / dt });
  }
  return out;
}

/** Highest rate over any window of at least `windowMs` between samples of a cumulative counter. */
export function peakRate(samples: readonly { atMs: number; value: number }[], windowMs: number): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < samples.length; i++) {
    const b = samples[i]!;
    while (j < i && b.atMs - samples[j + 1]!.atMs >= windowMs) j++;
    const a = samples[j]!;
    const dt = b.atMs - a.atMs;
    if (dt >= windowMs) best = Math.max(best, ((b.value - a.value) * 1000) / dt);
  }
  return best;
}
