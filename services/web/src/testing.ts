/**
 * Test support (compiled, not a test file): realistic 1m bars for one symbol and a bar table
 * with its views in the test QuestDB.
 */
import { seededRandom } from '@cvd/common';
import { barTableDdl, BarWriter, ensureViews, QuestDbSql, viewsRefreshed } from '@cvd/questdb';
import { eventually, uniqueTable } from '@cvd/test-kit';

/** The row type BarWriter takes (the engine's BarRow), without depending on @cvd/engine here. */
export type BarRow = Parameters<BarWriter['write']>[0][number];

export const MINUTE = 60_000;

/**
 * `minutes` consecutive 1m bars from `startMs`: a price random walk and a continuous CVD
 * (`cvd_open(n) = cvd_close(n−1)`), every bar final unless `formingLast`.
 */
export function walkBars(opts: { market: BarRow['market']; symbol: string; startMs: number; minutes: number; seed: number; price?: number; formingLast?: boolean }): BarRow[] {
  const rnd = seededRandom(opts.seed);
  let price = opts.price ?? 100;
  let cvd = 0;
  let aggId = 10_000;
  const out: BarRow[] = [];
  const f = (x: number, d = 2): string => x.toFixed(d);
  for (let m = 0; m < opts.minutes; m++) {
    const open = price;
    price = Math.max(0.01, price * (1 + (rnd() - 0.48) * 0.004));
    const high = Math.max(open, price) * (1 + rnd() * 0.001);
    const low = Math.min(open, price) * (1 - rnd() * 0.001);
    const buy = rnd() * 20;
    const sell = rnd() * 20;
    const cvdOpen = cvd;
    cvd += buy - sell;
    const n = 5 + Math.floor(rnd() * 50);
    out.push({
      ts: opts.startMs + m * MINUTE, market: opts.market, symbol: opts.symbol,
      open: f(open), high: f(high), low: f(low), close: f(price),
      volume: f(buy + sell, 4), buyVolume: f(buy, 4), sellVolume: f(sell, 4),
      quoteVolume: f((buy + sell) * price), buyQuoteVolume: f(buy * price), sellQuoteVolume: f(sell * price),
      delta: f(cvd - cvdOpen, 4), quoteDelta: f((buy - sell) * price),
      cvdOpen: f(cvdOpen, 4), cvdHigh: f(Math.max(cvdOpen, cvd) + rnd() * 5, 4), cvdLow: f(Math.min(cvdOpen, cvd) - rnd() * 5, 4), cvdClose: f(cvd, 4),
      trades: n * 2, aggTrades: n, firstAggId: aggId, lastAggId: aggId + n - 1,
      missingAggIds: 0, recovered: 0, final: !(opts.formingLast && m === opts.minutes - 1),
    });
    aggId += n;
  }
  return out;
}

/** A fresh bar table with its views in the test QuestDB. */
export async function createBarTable(httpUrl: string, prefix = 'web'): Promise<{ table: string; sql: QuestDbSql }> {
  const table = uniqueTable(prefix);
  const sql = new QuestDbSql({ httpUrl });
  await sql.exec(barTableDdl(table));
  await ensureViews(sql, table);
  return { table, sql };
}

/** Writes bars and waits until the table and every view show them. */
export async function writeBars(httpUrl: string, table: string, rows: readonly BarRow[]): Promise<void> {
  const writer = new BarWriter({ httpUrl }, { table });
  try {
    await writer.write(rows, Date.now());
  } finally {
    await writer.close();
  }
  const sql = new QuestDbSql({ httpUrl });
  await eventually(() => viewsRefreshed(sql, table), 30_000, 100);
}
