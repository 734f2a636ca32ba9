import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { BarRow } from '@cvd/engine';
import { eventually, getTestStack, uniqueTable } from '@cvd/test-kit';
import { BAR_COLUMNS, barTableDdl } from './bar-table.js';
import { BarWriter } from './bar-writer.js';
import { QuestDbSql } from './sql.js';

let httpUrl: string;
before(async () => {
  httpUrl = (await getTestStack()).questdbHttp;
});

function bar(ts: number, symbol: string, cvdClose: string, final: boolean): BarRow {
  return {
    ts, market: 'usdm', symbol,
    open: '100.5', high: '101', low: '100', close: '100.75',
    volume: '3.00000001', buyVolume: '2.00000001', sellVolume: '1',
    quoteVolume: '301.5', buyQuoteVolume: '201', sellQuoteVolume: '100.5',
    delta: '1.00000001', quoteDelta: '100.5',
    cvdOpen: '0', cvdHigh: '2', cvdLow: '-0.5', cvdClose,
    trades: 7, aggTrades: 3, firstAggId: 10, lastAggId: 12, missingAggIds: 1, recovered: 0, final,
  };
}

describe('BarWriter against real QuestDB', () => {
  test('creates the contract table and upserts rows idempotently, exact strings kept', async () => {
    const table = uniqueTable('bars');
    const sql = new QuestDbSql({ httpUrl });
    await sql.exec(barTableDdl(table));
    await sql.exec(barTableDdl(table)); // IF NOT EXISTS
    const cols = await sql.rows(`SELECT "column", type, upsertKey FROM table_columns('${table}')`);
    assert.deepEqual(cols.map((c) => c.column), BAR_COLUMNS.map(([n]) => n));
    assert.deepEqual(cols.filter((c) => c.upsertKey).map((c) => c.column).sort(), ['market', 'symbol', 'ts']);

    const writer = new BarWriter({ httpUrl }, { table, chunkRows: 2 });
    const t0 = Date.UTC(2024, 0, 1, 0, 0);
    const rows = [bar(t0, 'BTCUSDT', '1.00000001', false), bar(t0 + 60_000, 'BTCUSDT', '2.00000002', false), bar(t0, 'ETHUSDT', '-3.1', true)];
    await writer.write(rows, Date.now());
    await writer.write(rows, Date.now());
    await writer.write([bar(t0, 'BTCUSDT', '1.00000001', true)], Date.now());
    await writer.close();
    await eventually(async () => {
      const r = await sql.rows(`SELECT count() c, sum(CASE WHEN final THEN 1 ELSE 0 END) f FROM ${table}`);
      return r[0]?.c === 3 && r[0]?.f === 2;
    });
    const got = await sql.rows(`SELECT symbol, cvd_close, cvd_close_exact, delta_exact, volume, trades, missing_agg_ids FROM ${table} ORDER BY symbol, ts`);
    assert.deepEqual(got, [
      { symbol: 'BTCUSDT', cvd_close: 1.00000001, cvd_close_exact: '1.00000001', delta_exact: '1.00000001', volume: 3.00000001, trades: 7, missing_agg_ids: 1 },
      { symbol: 'BTCUSDT', cvd_close: 2.00000002, cvd_close_exact: '2.00000002', delta_exact: '1.00000001', volume: 3.00000001, trades: 7, missing_agg_ids: 1 },
      { symbol: 'ETHUSDT', cvd_close: -3.1, cvd_close_exact: '-3.1', delta_exact: '1.00000001', volume: 3.00000001, trades: 7, missing_agg_ids: 1 },
    ]);
  });

  test('an unreachable QuestDB gives a retriable error', async () => {
    const writer = new BarWriter({ httpUrl: 'http://127.0.0.1:9', requestTimeoutMs: 1000 });
    await assert.rejects(writer.write([bar(Date.UTC(2024, 0, 1), 'X', '1', false)], Date.now()), (err: Error & { code?: string; retriable?: boolean }) => {
      assert.equal(err.code, 'write-failed');
      assert.equal(err.retriable, true);
      return true;
    });
    await writer.close();
  });
});
