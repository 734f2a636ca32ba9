/**
 * Every SQL statement of the provisioned Grafana dashboard runs against a real QuestDB bar
 * table (the contract DDL, rows written by the aggregator's BarWriter), with Grafana's macros
 * and variables replaced by concrete values — and returns the rows it should.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { barTableDdl, BarWriter } from '@cvd/questdb';
import { eventually, getTestStack, questdbExec, questdbRows, uniqueTable } from '@cvd/test-kit';
import { extractQueries, loadDashboard, substituteGrafana, type GrafanaContext } from './dashboard.js';

type BarRow = Parameters<BarWriter['write']>[0][number];

const MINUTE = 60_000;

function bar(ts: number, market: BarRow['market'], symbol: string, delta: number, cvdClose: number): BarRow {
  const buy = 10 + Math.max(delta, 0);
  const sell = 10 + Math.max(-delta, 0);
  return {
    ts, market, symbol,
    open: '100', high: '101', low: '99', close: '100.5',
    volume: String(buy + sell), buyVolume: String(buy), sellVolume: String(sell),
    quoteVolume: String((buy + sell) * 100), buyQuoteVolume: String(buy * 100), sellQuoteVolume: String(sell * 100),
    delta: String(delta), quoteDelta: String(delta * 100),
    cvdOpen: String(cvdClose - delta), cvdHigh: String(Math.max(cvdClose, cvdClose - delta)), cvdLow: String(Math.min(cvdClose, cvdClose - delta)), cvdClose: String(cvdClose),
    trades: 5, aggTrades: 3, firstAggId: 1, lastAggId: 3, missingAggIds: 0, recovered: 0, final: true,
  };
}

let httpUrl: string;
let table: string;
let writer: BarWriter | undefined;
/** Bars over the last 30 minutes for three symbols in two markets. */
const now = Math.floor(Date.now() / MINUTE) * MINUTE;
const start = now - 30 * MINUTE;

before(async () => {
  httpUrl = (await getTestStack()).questdbHttp;
  table = uniqueTable('deploy_dash');
  await questdbExec(httpUrl, barTableDdl(table));
  const rows: BarRow[] = [];
  const cvd: Record<string, number> = {};
  for (let i = 0; i < 30; i++) {
    for (const [market, symbol, d] of [['usdm', 'BTCUSDT', 2], ['usdm', 'ETHUSDT', -1], ['spot', 'BTCUSDT', 0.5]] as const) {
      const key = `${market}:${symbol}`;
      cvd[key] = (cvd[key] ?? 0) + d;
      rows.push(bar(start + i * MINUTE, market, symbol, d, cvd[key]));
    }
  }
  writer = new BarWriter({ httpUrl }, { table });
  await writer.write(rows, Date.now());
  await eventually(async () => (await questdbRows(httpUrl, `SELECT count() AS n FROM ${table}`))[0]?.n === rows.length, 60_000);
});

after(async () => {
  await writer?.close();
});

describe('Grafana dashboard SQL against QuestDB', () => {
  const queries = extractQueries(loadDashboard());

  test('the dashboard has queries', () => {
    assert.ok(queries.length >= 4);
  });

  const contexts: [string, Omit<GrafanaContext, 'table'>][] = [
    ['last 6 h, 1 min interval, two symbols', { from: new Date(now - 6 * 3_600_000 + 250), to: new Date(now + MINUTE + 123), intervalMs: MINUTE, vars: { market: 'usdm', symbol: ['BTCUSDT', 'ETHUSDT'] } }],
    ['last 7 d, 10 min interval, one symbol', { from: new Date(now - 7 * 86_400_000), to: new Date(now + MINUTE), intervalMs: 10 * MINUTE, vars: { market: 'usdm', symbol: ['BTCUSDT'] } }],
  ];

  for (const [label, ctx] of contexts) {
    for (const q of queries) {
      test(`${q.where} runs and returns rows (${label})`, async () => {
        const sql = substituteGrafana(q.sql, { ...ctx, table });
        assert.ok(sql.includes(table), `the query must read the bar table:\n${sql}`);
        const result = await questdbExec(httpUrl, sql); // throws with QuestDB's error and the SQL
        assert.ok(result.count > 0, `no rows from ${q.where}:\n${sql}`);
        const columns = result.columns.map((c) => c.name);
        if (q.format === 'time_series') {
          assert.equal(columns[0], 'time', 'time series queries return `time` first');
          assert.equal(result.columns[0]?.type, 'TIMESTAMP');
          assert.ok(columns.includes('metric'), 'one series per symbol via the `metric` column');
          const symbols = new Set(result.dataset.map((r) => r[columns.indexOf('metric')]));
          const wanted = ctx.vars.symbol as string[];
          assert.deepEqual([...symbols].sort(), [...wanted].sort(), 'one series per selected symbol');
          const times = result.dataset.map((r) => Date.parse(String(r[0])));
          assert.deepEqual(times, [...times].sort((a, b) => a - b), 'rows sorted by time (Grafana needs ascending time)');
        }
      });
    }
  }

  test('the CVD series ends at the last cvd_close and the 1 h table ranks by delta', async () => {
    const ctx: GrafanaContext = { from: new Date(now - 3_600_000), to: new Date(now + MINUTE), intervalMs: MINUTE, vars: { market: 'usdm', symbol: ['BTCUSDT', 'ETHUSDT'] }, table };
    const byWhere = Object.fromEntries(queries.map((q) => [q.where, q]));
    const cvdQuery = Object.values(byWhere).find((q) => q.format === 'time_series' && /cvd_close/.test(q.sql));
    assert.ok(cvdQuery);
    const cvdRows = await questdbRows(httpUrl, substituteGrafana(cvdQuery.sql, ctx));
    const lastBtc = cvdRows.filter((r) => r.metric === 'BTCUSDT').at(-1);
    assert.equal(lastBtc?.cvd_close, 60, 'BTCUSDT usdm: 30 bars of delta 2');
    const tableQuery = Object.values(byWhere).find((q) => q.format === 'table' && q.where.startsWith('panel'));
    assert.ok(tableQuery);
    const top = await questdbRows(httpUrl, substituteGrafana(tableQuery.sql, ctx));
    assert.deepEqual(top.map((r) => `${String(r.market)}:${String(r.symbol)}`), ['usdm:BTCUSDT', 'spot:BTCUSDT', 'usdm:ETHUSDT']);
    assert.equal(top[0]?.delta_1h, 60);
  });
});
