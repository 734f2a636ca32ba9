/**
 * The page's folding of pushed 1m bars into a bucket (public/fold.js) against the server's
 * aggregation rules: the bar columns' view aggregates in @cvd/questdb (`BAR_COLUMN_SPECS`) and
 * `final` = every minute final and the bucket ended.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BAR_COLUMN_SPECS } from '@cvd/questdb';
import { BAR_API_COLUMNS } from './sql.js';

type Row = Record<string, number | string | boolean | null>;
interface FoldModule {
  foldBucket(minutes: Map<number, Row>, bucket: number, tfs: number, nowMs: number): Row | undefined;
  toApiBar(pushed: Row): Row;
}
const fold = (await import(new URL('../public/fold.js', import.meta.url).href)) as FoldModule;

const B = Date.UTC(2024, 4, 1, 12, 0) / 1000;

function minute(i: number, over: Partial<Row> = {}): Row {
  const t = B + i * 60;
  return {
    ts: new Date(t * 1000).toISOString(), time: t,
    open: 100 + i, high: 110 + (i % 3) * 5, low: 90 - i, close: 101 + i,
    volume: 1 + i, buy_volume: 0.5 + i, sell_volume: 0.5, delta: i,
    cvd_open: 10 * i, cvd_high: 10 * i + 7 - i, cvd_low: 10 * i - 3, cvd_close: 10 * i + 2, cvd_close_exact: `${10 * i + 2}.000000001`,
    trades: 3 * (i + 1), final: true, ...over,
  };
}

test('a 5m bucket of three minutes (one missing): first/max/min/last, sums, the CVD path, the exact cvd_close', () => {
  const ms = new Map([0, 1, 3].map((i) => [B + i * 60, minute(i)] as const));
  ms.set(B + 5 * 60, minute(5)); // the next bucket: not part of it
  const got = fold.foldBucket(ms, B, 300, (B + 300) * 1000);
  assert.deepEqual(got, {
    ts: '2024-05-01T12:00:00.000Z', time: B,
    open: 100, high: 115, low: 87, close: 104,
    volume: 1 + 2 + 4, buy_volume: 0.5 + 1.5 + 3.5, sell_volume: 1.5, delta: 0 + 1 + 3,
    cvd_open: 0, cvd_high: 34, cvd_low: -3, cvd_close: 32, cvd_close_exact: '32.000000001',
    trades: 3 + 6 + 12, final: true,
  });
});

test('final needs every minute final and the bucket ended', () => {
  const ms = new Map([0, 1].map((i) => [B + i * 60, minute(i)] as const));
  assert.equal(fold.foldBucket(ms, B, 300, (B + 300) * 1000 - 1)!.final, false, 'the bucket has not ended');
  assert.equal(fold.foldBucket(ms, B, 300, (B + 300) * 1000)!.final, true);
  ms.set(B + 60, minute(1, { final: false }));
  assert.equal(fold.foldBucket(ms, B, 300, (B + 3600) * 1000)!.final, false, 'a forming minute');
  assert.equal(fold.foldBucket(new Map(), B, 300, 0), undefined);
});

test('the folded bar has exactly the /api/bars columns, and each follows its view aggregate', () => {
  const got = fold.foldBucket(new Map([[B, minute(0)]]), B, 60, 0)!;
  assert.deepEqual(Object.keys(got).sort(), ['ts', 'time', ...BAR_API_COLUMNS, 'final'].sort());
  // The rules foldBucket encodes, checked against the columns' declared view aggregates.
  const rule: Record<string, string> = { open: 'first', high: 'max', low: 'min', close: 'last', volume: 'sum', buy_volume: 'sum', sell_volume: 'sum', delta: 'sum', cvd_open: 'first', cvd_high: 'max', cvd_low: 'min', cvd_close: 'last', trades: 'sum' };
  for (const [col, agg] of Object.entries(rule)) {
    const spec = BAR_COLUMN_SPECS.find((c) => c.name === col) as { view?: string } | undefined;
    assert.equal(spec?.view, agg, col);
  }
});

test('toApiBar drops the routing fields of a pushed bar', () => {
  assert.deepEqual(fold.toApiBar({ ...minute(0), market: 'usdm', symbol: 'BTCUSDT', last_agg_id: 7 }), minute(0));
});
