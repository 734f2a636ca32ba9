import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TailBook, type TailBar } from './tail.js';

const T = Date.UTC(2024, 4, 1, 12, 0) / 1000;
const bar = (market: string, symbol: string, minute: number, over: Partial<TailBar> = {}): TailBar => ({
  market, symbol, time: T + minute * 60, close: 100 + minute, cvd_close: minute * 1.5, delta: 1.5, final: false, trades: 10, ...over,
});
const rows = (book: TailBook, now = (T + 3600) * 1000): string[] => book.table(now).split('\n').filter((l) => /^(usdm|spot|coinm):/.test(l));

test('a fixed list: newest bar per symbol, older revisions ignored, symbols without bars say so', () => {
  const book = new TailBook([{ market: 'usdm', symbol: 'A' }, { market: 'spot', symbol: 'B' }], 20);
  assert.equal(book.apply(bar('usdm', 'A', 1)), true);
  assert.equal(book.apply(bar('usdm', 'A', 2, { close: 7.25, cvd_close: -3.5, delta: -0.5, final: true })), true);
  assert.equal(book.apply(bar('usdm', 'A', 1, { close: 1 })), false, 'a revision of an older minute does not replace the newest');
  assert.equal(book.apply(bar('usdm', 'Z', 5)), false, 'not shown');
  const [a, b] = rows(book, (T + 180) * 1000 + 5_000);
  assert.match(a!, /^usdm:A\s+7.25\s+-3.5\s+-0.5\s+yes\s+12:02\s+5s$/);
  assert.match(b!, /^spot:B\s+no bars$/);
});

test('without a list: ranked by trades over the last 15 minutes of bar time, re-ranked on demand', () => {
  const book = new TailBook([], 2, [{ market: 'usdm', symbol: 'OLD' }, { market: 'usdm', symbol: 'B' }]);
  book.apply(bar('usdm', 'OLD', 0, { trades: 1000 })); // 12:00 — out of the window once bars reach 12:16
  book.apply(bar('usdm', 'B', 16, { trades: 5 }));
  book.apply(bar('usdm', 'C', 16, { trades: 50 }));
  book.apply(bar('usdm', 'C', 16, { trades: 60 })); // a newer version of the same minute replaces it
  book.apply(bar('usdm', 'B', 15, { trades: 10 }));
  assert.deepEqual(book.keys().map((k) => k.symbol), ['OLD', 'B'], 'unchanged until rank()');
  book.rank();
  assert.deepEqual(book.keys().map((k) => k.symbol), ['C', 'B'], 'C: 60 trades, B: 15, OLD: outside the window');
  assert.match(rows(book)[0]!, /^usdm:C\s+116\s+24\s+1.5\s+no\s+12:16/);
});
