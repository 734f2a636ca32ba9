// Pure folding of pushed 1m bars into a chart bucket, exactly as the server's materialized
// views aggregate them (and /api/bars reads them). Imported by app.js; unit-tested in
// src/fold.test.ts.

/**
 * One bucket starting at `bucket` (epoch s) of `tfs` seconds from the 1m bars in `minutes`
 * (time → /api/bars row): first open, max high, min low, last close; summed volumes, delta and
 * trades; the CVD path's first open, max high, min low and last close (with its exact string);
 * final when every minute is final and the bucket has ended by `nowMs` (the view's
 * `bool_and(final)` plus `ts + tf <= now()`). Undefined when no minute of the bucket is known.
 */
export function foldBucket(minutes, bucket, tfs, nowMs) {
  const ms = [];
  for (let t = bucket; t < bucket + tfs; t += 60) {
    const m = minutes.get(t);
    if (m) ms.push(m);
  }
  if (ms.length === 0) return undefined;
  const first = ms[0];
  const last = ms[ms.length - 1];
  const sum = (k) => ms.reduce((acc, m) => acc + m[k], 0);
  const max = (k) => ms.reduce((acc, m) => (m[k] > acc ? m[k] : acc), -Infinity);
  const min = (k) => ms.reduce((acc, m) => (m[k] < acc ? m[k] : acc), Infinity);
  return {
    ts: new Date(bucket * 1000).toISOString(),
    time: bucket,
    open: first.open,
    high: max('high'),
    low: min('low'),
    close: last.close,
    volume: sum('volume'),
    buy_volume: sum('buy_volume'),
    sell_volume: sum('sell_volume'),
    delta: sum('delta'),
    cvd_open: first.cvd_open,
    cvd_high: max('cvd_high'),
    cvd_low: min('cvd_low'),
    cvd_close: last.cvd_close,
    cvd_close_exact: last.cvd_close_exact,
    trades: sum('trades'),
    final: ms.every((m) => m.final) && (bucket + tfs) * 1000 <= nowMs,
  };
}

/** A pushed bar without the stream's routing fields: the /api/bars row. */
export function toApiBar(pushed) {
  const { market: _m, symbol: _s, last_agg_id: _l, ...bar } = pushed;
  return bar;
}
