/**
 * Proof that @questdb/nodejs-client writes over ILP/HTTP into a WAL table with DEDUP UPSERT
 * KEYS on the QuestDB this project runs, and that a replay writes no duplicates.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Sender } from '@questdb/nodejs-client';
import { eventually, getTestStack, questdbExec, questdbRows, uniqueTable } from '@cvd/test-kit';

let http: string;

before(async () => {
  http = (await getTestStack()).questdbHttp;
});

async function writeRows(table: string, rows: { ts: bigint; symbol: string; cvd: number; trades: number }[]): Promise<void> {
  const sender = await Sender.fromConfig(`http::addr=${new URL(http).host};auto_flush=off`);
  try {
    for (const r of rows) {
      await sender.table(table).symbol('symbol', r.symbol).floatColumn('cvd', r.cvd).intColumn('trades', r.trades).at(r.ts, 'us');
    }
    await sender.flush();
  } finally {
    await sender.close();
  }
}

describe('QuestDB with the Node.js ILP client', () => {
  test('WAL table with DEDUP UPSERT KEYS: rows written twice are stored once, later values win', async () => {
    const table = uniqueTable('proof_bars');
    await questdbExec(
      http,
      `CREATE TABLE ${table} (ts TIMESTAMP, symbol SYMBOL, cvd DOUBLE, trades LONG) TIMESTAMP(ts) PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, symbol)`,
    );
    const minute = 60_000_000n;
    const t0 = 1_700_000_040_000_000n - (1_700_000_040_000_000n % minute);
    const rows = [
      { ts: t0, symbol: 'BTCUSDT', cvd: 1.5, trades: 3 },
      { ts: t0, symbol: 'ETHUSDT', cvd: -2.25, trades: 5 },
      { ts: t0 + minute, symbol: 'BTCUSDT', cvd: 4, trades: 7 },
    ];
    await writeRows(table, rows);
    await eventually(async () => (await questdbExec(http, `SELECT count() FROM ${table}`)).dataset[0]?.[0] === 3);

    // Replay of the same rows: still three rows.
    await writeRows(table, rows);
    // An upsert of one key with a new value replaces it.
    await writeRows(table, [{ ts: t0, symbol: 'BTCUSDT', cvd: 2.5, trades: 4 }]);
    await eventually(async () => {
      const r = await questdbRows(http, `SELECT cvd FROM ${table} WHERE symbol = 'BTCUSDT' AND ts = '${new Date(Number(t0 / 1000n)).toISOString()}'`);
      return r[0]?.cvd === 2.5;
    });
    const all = await questdbRows(http, `SELECT ts, symbol, cvd, trades FROM ${table} ORDER BY ts, symbol`);
    assert.equal(all.length, 3);
    assert.deepEqual(
      all.map((r) => [r.symbol, r.cvd, r.trades]),
      [
        ['BTCUSDT', 2.5, 4],
        ['ETHUSDT', -2.25, 5],
        ['BTCUSDT', 4, 7],
      ],
    );
    const dedup = await questdbRows(http, `SELECT upsertKey FROM table_columns('${table}') WHERE "column" = 'symbol'`);
    assert.equal(dedup[0]?.upsertKey, true, 'symbol is a dedup key');
  });
});
