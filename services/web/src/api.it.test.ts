/** The API against real QuestDB: bars written in the test come back from the table and its views. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '@cvd/common';
import { getTestStack } from '@cvd/test-kit';
import type { QuestDbSql } from '@cvd/questdb';
import { createBarTable, MINUTE, walkBars, writeBars } from './testing.js';
import { startWeb, type RunningWeb } from './web.js';

let web: RunningWeb;
let table: string;
let sql: QuestDbSql;
const start = Date.UTC(2024, 2, 1, 23, 0); // crosses a day boundary: 1d has two buckets
const btc = walkBars({ market: 'usdm', symbol: 'BTCUSDT', startMs: start, minutes: 90, seed: 1, price: 62_000, formingLast: true });
const eth = walkBars({ market: 'spot', symbol: 'ETHBTC', startMs: start + 30 * MINUTE, minutes: 12, seed: 2, price: 0.05 });
const uni = walkBars({ market: 'usdm', symbol: '币安人生USDT', startMs: start, minutes: 3, seed: 3, price: 0.2 });

before(async () => {
  const { questdbHttp } = await getTestStack();
  ({ table, sql } = await createBarTable(questdbHttp));
  await writeBars(questdbHttp, table, [...btc, ...eth, ...uni]);
  web = await startWeb({ questdb: { httpUrl: questdbHttp }, table, port: 0, logger: createLogger({ service: 'web-test', level: 'warn' }) });
});
after(() => web?.close());

async function api(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${web.url}${path}`);
  return { status: res.status, body: await res.json() };
}
const iso = (ms: number): string => new Date(ms).toISOString();

describe('web API against real QuestDB', () => {
  test('/api/symbols lists every (market, symbol) with its newest bar time', async () => {
    const { status, body } = await api('/api/symbols');
    assert.equal(status, 200);
    assert.deepEqual(body, [
      { market: 'spot', symbol: 'ETHBTC', lastTs: iso(eth.at(-1)!.ts) },
      { market: 'usdm', symbol: 'BTCUSDT', lastTs: iso(btc.at(-1)!.ts) },
      { market: 'usdm', symbol: '币安人生USDT', lastTs: iso(uni.at(-1)!.ts) },
    ]);
  });

  test('1m: the newest `limit` rows of the table, oldest first, values as written', async () => {
    const { status, body } = await api('/api/bars?market=usdm&symbol=BTCUSDT&tf=1m&limit=5');
    assert.equal(status, 200);
    assert.equal(body.bars.length, 5);
    const want = btc.slice(-5);
    assert.deepEqual(body.bars.map((b: any) => [b.ts, b.time, b.open, b.high, b.low, b.close, b.cvd_open, b.cvd_high, b.cvd_low, b.cvd_close, b.cvd_close_exact, b.trades, b.final]),
      want.map((w) => [iso(w.ts), w.ts / 1000, Number(w.open), Number(w.high), Number(w.low), Number(w.close), Number(w.cvdOpen), Number(w.cvdHigh), Number(w.cvdLow), Number(w.cvdClose), w.cvdClose, w.trades, w.final]));
    assert.equal(body.bars.at(-1).final, false, 'the forming bar is not final');
  });

  test('views: each timeframe returns exactly the view rows; final needs the bucket to have ended', async () => {
    for (const tf of ['5m', '15m', '1h', '4h', '1d'] as const) {
      const { body } = await api(`/api/bars?market=usdm&symbol=BTCUSDT&tf=${tf}&limit=5000`);
      const rows = await sql.rows(`SELECT ts, open, high, low, close, cvd_open, cvd_high, cvd_low, cvd_close, final FROM ${table}_${tf} WHERE market = 'usdm' AND symbol = 'BTCUSDT'`);
      assert.ok(rows.length > 0);
      assert.deepEqual(body.bars.map((b: any) => [b.ts, b.open, b.high, b.low, b.close, b.cvd_open, b.cvd_high, b.cvd_low, b.cvd_close, b.final]),
        rows.map((r) => [String(r.ts).replace(/\.(\d{3})\d*Z$/, '.$1Z'), r.open, r.high, r.low, r.close, r.cvd_open, r.cvd_high, r.cvd_low, r.cvd_close, r.final]), tf);
      assert.equal(body.bars.at(-1).cvd_close, Number(btc.at(-1)!.cvdClose), `${tf}: last cvd_close is the newest 1m cvd_close`);
      assert.equal(body.bars.at(-1).final, false, `${tf}: the bucket holding the forming minute is not final`);
    }
    const d1 = (await api('/api/bars?market=usdm&symbol=BTCUSDT&tf=1d')).body.bars;
    assert.deepEqual(d1.map((b: any) => b.ts), [iso(Date.UTC(2024, 2, 1)), iso(Date.UTC(2024, 2, 2))]);
    assert.equal(d1[0].open, Number(btc[0]!.open));
    assert.equal(d1[0].close, Number(btc[59]!.close), 'the first day closes at 23:59');
    assert.equal(d1[0].final, true, 'a past day whose minutes are all final is final');
  });

  test('since (inclusive) and limit; other symbols and markets are separate; unicode symbols work', async () => {
    const since = btc[80]!.ts;
    const { body } = await api(`/api/bars?market=usdm&symbol=BTCUSDT&tf=1m&since=${since}`);
    assert.deepEqual(body.bars.map((b: any) => b.ts), btc.slice(80).map((b) => iso(b.ts)));
    const isoSince = (await api(`/api/bars?market=usdm&symbol=BTCUSDT&since=${iso(since).replace('.000', '')}&limit=2`)).body.bars;
    assert.deepEqual(isoSince.map((b: any) => b.ts), btc.slice(-2).map((b) => iso(b.ts)));
    assert.equal((await api('/api/bars?market=spot&symbol=BTCUSDT')).body.bars.length, 0, 'BTCUSDT has no spot bars');
    assert.equal((await api('/api/bars?market=spot&symbol=ETHBTC&tf=1m&limit=100')).body.bars.length, 12);
    const u = await api(`/api/bars?market=usdm&symbol=${encodeURIComponent('币安人生USDT')}`);
    assert.equal(u.body.bars.length, 3);
    assert.equal(u.body.symbol, '币安人生USDT');
  });

  test('a hostile symbol is a 400 and the table is untouched', async () => {
    const r = await api(`/api/bars?market=usdm&symbol=${encodeURIComponent("x' OR 1=1 --")}`);
    assert.equal(r.status, 400);
    assert.match(r.body.error, /^symbol:/);
    const count = await sql.rows(`SELECT count() c FROM ${table}`);
    assert.equal(count[0]?.c, btc.length + eth.length + uni.length);
  });

  test('health reports QuestDB', async () => {
    const r = await api('/health');
    assert.equal(r.status, 200);
    assert.equal(r.body.checks.questdb.healthy, true);
  });
});
