/**
 * The materialized views against real QuestDB: every view column equals the aggregate the
 * test computes itself from the 1m rows QuestDB holds, before and after upserts that revise
 * 1m bars (the DEDUP UPSERT KEYS path the aggregator uses for forming and late bars).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { BarRow } from '@cvd/engine';
import { seededRandom } from '@cvd/common';
import { eventually, getTestStack, uniqueTable } from '@cvd/test-kit';
import { barTableDdl } from './bar-table.js';
import { BarWriter } from './bar-writer.js';
import { QuestDbSql } from './sql.js';
import { ensureViews, TIMEFRAME_MS, VIEW_COLUMNS, VIEW_TIMEFRAMES, viewName, viewsRefreshed, type ViewTimeframe } from './views.js';

let httpUrl: string;
before(async () => {
  httpUrl = (await getTestStack()).questdbHttp;
});

type Row = Record<string, unknown>;
const MINUTE = 60_000;

/** 1m bars for a few symbols over ~30 hours (crossing 4h and day boundaries), with gaps. */
function makeBars(seed: number, startMs: number): BarRow[] {
  const rnd = seededRandom(seed);
  const out: BarRow[] = [];
  const syms: [BarRow['market'], string][] = [['usdm', 'BTCUSDT'], ['spot', 'BTCUSDT'], ['coinm', 'ETHUSD_PERP']];
  for (const [market, symbol] of syms) {
    let price = 100 + rnd() * 100;
    let cvd = 0;
    let aggId = 1000;
    for (let m = 0; m < 30 * 60; m += 1 + Math.floor(rnd() * 9)) {
      const r2 = (x: number): string => x.toFixed(2);
      const open = price;
      price = Math.max(1, price + (rnd() - 0.5) * 4);
      const hi = Math.max(open, price) + rnd();
      const lo = Math.min(open, price) - rnd();
      const buy = rnd() * 10;
      const sell = rnd() * 10;
      const delta = buy - sell;
      const cvdOpen = cvd;
      cvd += delta;
      const n = 1 + Math.floor(rnd() * 20);
      out.push({
        ts: startMs + m * MINUTE, market, symbol,
        open: r2(open), high: r2(hi), low: r2(lo), close: r2(price),
        volume: r2(buy + sell), buyVolume: r2(buy), sellVolume: r2(sell),
        quoteVolume: r2((buy + sell) * price), buyQuoteVolume: r2(buy * price), sellQuoteVolume: r2(sell * price),
        delta: r2(delta), quoteDelta: r2(delta * price),
        cvdOpen: r2(cvdOpen), cvdHigh: r2(Math.max(cvdOpen, cvd) + rnd()), cvdLow: r2(Math.min(cvdOpen, cvd) - rnd()), cvdClose: r2(cvd),
        trades: n * 2, aggTrades: n, firstAggId: aggId, lastAggId: aggId + n - 1,
        missingAggIds: rnd() < 0.1 ? 3 : 0, recovered: rnd() < 0.1 ? 1 : 0, final: rnd() < 0.9,
      });
      aggId += n;
    }
  }
  return out;
}

const isoToMs = (ts: unknown): number => Date.parse(String(ts));

/** The view rows computed here from the 1m rows (ordered by ts), one aggregate per VIEW_COLUMNS entry. */
function expectedView(base: Row[], tf: ViewTimeframe): Row[] {
  const groups = new Map<string, Row[]>();
  for (const r of base) {
    const bucket = Math.floor(isoToMs(r.ts) / TIMEFRAME_MS[tf]) * TIMEFRAME_MS[tf];
    const key = `${r.market}|${r.symbol}|${bucket}`;
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  const out: Row[] = [];
  for (const [key, rows] of groups) {
    const bucket = Number(key.split('|')[2]);
    const col = (c: string): unknown[] => rows.map((r) => r[c]);
    const nums = (c: string): number[] => col(c) as number[];
    const sum = (c: string): number => nums(c).reduce((a, b) => a + b, 0);
    const agg: Record<string, (c: string) => unknown> = {
      first: (c) => col(c)[0],
      last: (c) => col(c)[col(c).length - 1],
      max: (c) => (c === 'updated_at' ? [...(col(c) as string[])].sort().at(-1) : Math.max(...nums(c))),
      min: (c) => Math.min(...nums(c)),
      sum,
      bool_and: (c) => col(c).every(Boolean),
    };
    const row: Row = { ts: new Date(bucket).toISOString().replace('Z', '000Z'), market: rows[0]!.market, symbol: rows[0]!.symbol };
    for (const [name, expr] of VIEW_COLUMNS) {
      const m = /^(\w+)\((\w*)\)$/.exec(expr)!;
      row[name] = m[1] === 'count' ? rows.length : agg[m[1]!]!(m[2]!);
    }
    out.push(row);
  }
  return out.sort((a, b) => String(a.ts).localeCompare(String(b.ts)) || String(a.market).localeCompare(String(b.market)) || String(a.symbol).localeCompare(String(b.symbol)));
}

function compare(got: Row[], want: Row[]): string | undefined {
  if (got.length !== want.length) return `row count ${got.length} != ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    for (const [k, v] of Object.entries(want[i]!)) {
      const g = got[i]![k];
      // Exact, sums included: QuestDB adds the doubles in ts order, as this test does.
      if (g !== v) return `row ${i} (${String(want[i]!.ts)} ${String(want[i]!.market)} ${String(want[i]!.symbol)}) column ${k}: got ${JSON.stringify(g)}, want ${JSON.stringify(v)}`;
    }
  }
  return undefined;
}

async function assertViewsMatch(sql: QuestDbSql, table: string): Promise<void> {
  const cols = ['ts', 'market', 'symbol', ...VIEW_COLUMNS.map(([n]) => n)].join(', ');
  await eventually(() => viewsRefreshed(sql, table), 60_000, 200);
  let problem: string | undefined = 'not checked';
  await eventually(async () => {
    const base = await sql.rows(`SELECT * FROM ${table} ORDER BY ts`);
    for (const tf of VIEW_TIMEFRAMES) {
      const got = await sql.rows(`SELECT ${cols} FROM ${viewName(tf, table)} ORDER BY ts, market, symbol`);
      problem = compare(got, expectedView(base, tf));
      if (problem) {
        problem = `${viewName(tf, table)}: ${problem}`;
        return false;
      }
    }
    return true;
  }, 60_000, 300).catch((err: unknown) => {
    throw new Error(`views never matched the 1m rows: ${problem}`, { cause: err });
  });
}

describe('materialized views over the 1m bar table (real QuestDB)', () => {
  test('every view column equals the aggregate of the 1m rows, also after upserts revise 1m bars', async () => {
    const table = uniqueTable('bars');
    const sql = new QuestDbSql({ httpUrl });
    await sql.exec(barTableDdl(table));
    const names = await ensureViews(sql, table);
    assert.deepEqual(names, VIEW_TIMEFRAMES.map((tf) => `${table}_${tf}`));
    assert.deepEqual(await ensureViews(sql, table), names, 'IF NOT EXISTS: a second call is harmless');
    const listed = await sql.rows(`SELECT view_name, base_table_name, refresh_type FROM materialized_views() WHERE base_table_name = '${table}' ORDER BY view_name`);
    assert.equal(listed.length, 5);
    assert.ok(listed.every((v) => v.refresh_type === 'immediate'));

    const start = Date.UTC(2024, 4, 1, 20, 0);
    const bars = makeBars(7, start);
    const writer = new BarWriter({ httpUrl }, { table, chunkRows: 400 });
    await writer.write(bars, Date.UTC(2024, 4, 3));
    await eventually(async () => (await sql.rows(`SELECT count() c FROM ${table}`))[0]?.c === bars.length);
    await assertViewsMatch(sql, table);

    // Revise bars the way the aggregator does (same key, new values): a bucket's first bar
    // gets a new open and a new high, a last bar a new close, forming bars turn final, and a
    // new bar appears inside an existing bucket.
    const first = bars[0]!;
    const taken = new Set(bars.filter((b) => b.market === first.market && b.symbol === first.symbol).map((b) => b.ts));
    const freeTs = [1, 2, 3, 4].map((k) => first.ts + k * MINUTE).find((t) => !taken.has(t));
    assert.ok(freeTs !== undefined, 'the generator leaves gaps');
    const revised: BarRow[] = [
      { ...first, open: '1.5', high: '999.25', cvdLow: '-500.5', trades: first.trades + 5, final: true },
      ...bars.filter((b) => !b.final).slice(0, 10).map((b) => ({ ...b, close: '123.45', cvdClose: '42.42', final: true })),
      { ...first, ts: freeTs, final: false, cvdClose: '-7.77' },
    ];
    await writer.write(revised, Date.UTC(2024, 4, 4));
    await writer.close();
    await eventually(async () => (await sql.rows(`SELECT max(high) h FROM ${table}`))[0]?.h === 999.25);
    await assertViewsMatch(sql, table);
    const v5 = await sql.rows(`SELECT open, high FROM ${viewName('5m', table)} WHERE market = 'usdm' AND symbol = 'BTCUSDT' LIMIT 1`);
    assert.deepEqual(v5, [{ open: 1.5, high: 999.25 }]);
  });
});
