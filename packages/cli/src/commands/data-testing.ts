/**
 * Test support for the data verbs (compiled, not a test file): deterministic trade sets, the
 * bars the engine makes of them, and writing bars into a QuestDB table.
 */
import { deflateRawSync } from 'node:zlib';
import { seededRandom } from '@cvd/common';
import { applyBatch, createState, type BarRow } from '@cvd/engine';
import { barTableDdl, BarWriter, QuestDbSql } from '@cvd/questdb';
import { followTopic, type Kafka } from '@cvd/kafka';
import type { AggTrade } from '@cvd/core';
import { decodeTradeRecord } from '@cvd/schemas';

export const MINUTE = 60_000;

/** `minutes` minutes of trades of one symbol from `startMs`, agg ids consecutive from `firstAggId`, sorted by id (= time). */
export function makeTrades(o: { market: 'spot' | 'usdm' | 'coinm'; symbol: string; startMs: number; minutes: number; seed: number; firstAggId?: number; perMinute?: number }): AggTrade[] {
  const rnd = seededRandom(o.seed);
  const out: AggTrade[] = [];
  let aggId = o.firstAggId ?? 1000;
  let tradeId = aggId * 2;
  let price = 100 + rnd() * 100;
  for (let m = 0; m < o.minutes; m++) {
    const n = 1 + Math.floor(rnd() * (o.perMinute ?? 6));
    const times: number[] = [];
    for (let i = 0; i < n; i++) times.push(o.startMs + m * MINUTE + Math.floor(rnd() * 59_000));
    times.sort((a, b) => a - b);
    for (const t of times) {
      price = Math.max(0.01, price * (1 + (rnd() - 0.5) * 0.01));
      const fills = 1 + Math.floor(rnd() * 3);
      out.push({
        market: o.market, symbol: o.symbol, aggId: aggId++, price: price.toFixed(2), qty: (rnd() * 3 + 0.00000001).toFixed(8),
        firstId: tradeId, lastId: tradeId + fills - 1, tradeTimeMs: t, eventTimeMs: t, buyerMaker: rnd() < 0.5, recovered: false, receivedAtMs: t,
      });
      tradeId += fills;
    }
  }
  return out;
}

/** The final bars of a trade set (every minute final), sorted by market, symbol, ts. */
export function barsOf(trades: readonly AggTrade[], anchors: Record<string, string> = {}): BarRow[] {
  const state = createState({ graceMs: 5000, horizonMs: 1000 * 24 * 60 * MINUTE, anchors });
  const latest = new Map<string, BarRow>();
  const max = Math.max(...trades.map((t) => t.tradeTimeMs));
  for (const r of [applyBatch(state, trades.map((t) => ({ ...t })), max), applyBatch(state, [], max + 10 * MINUTE)]) {
    for (const row of r.upserts) latest.set(`${row.ts}|${row.market}|${row.symbol}`, row);
  }
  return [...latest.values()].sort((a, b) => a.market.localeCompare(b.market) || a.symbol.localeCompare(b.symbol) || a.ts - b.ts);
}

/** Creates the table (bar DDL) and writes the rows; resolves once QuestDB shows at least `rows.length` rows. */
export async function writeBarTable(httpUrl: string, table: string, rows: readonly BarRow[]): Promise<void> {
  const sql = new QuestDbSql({ httpUrl });
  await sql.exec(barTableDdl(table));
  const writer = new BarWriter({ httpUrl }, { table });
  await writer.write(rows, Date.now());
  await writer.close();
  await waitFor(async () => Number((await sql.rows(`SELECT count() n FROM ${table}`))[0]?.n ?? 0) >= rows.length);
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

/** Collects what a command prints. */
export function captureIo(): { out: string[]; err: string[]; io: { out: (s: string) => void; err: (s: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s) => out.push(s), err: (s) => err.push(s) } };
}

/** A one-entry zip like data.binance.vision's (sizes in the central directory only). */
export function makeZip(name: string, content: Buffer): Buffer {
  const data = deflateRawSync(content);
  const nameBuf = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(0x08, 6);
  local.writeUInt16LE(8, 8);
  local.writeUInt16LE(nameBuf.length, 26);
  const cd = Buffer.alloc(46);
  cd.writeUInt32LE(0x02014b50, 0);
  cd.writeUInt16LE(20, 4);
  cd.writeUInt16LE(20, 6);
  cd.writeUInt16LE(0x08, 8);
  cd.writeUInt16LE(8, 10);
  cd.writeUInt32LE(data.length, 20);
  cd.writeUInt32LE(content.length, 24);
  cd.writeUInt16LE(nameBuf.length, 28);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(cd.length + nameBuf.length, 12);
  eocd.writeUInt32LE(local.length + nameBuf.length + data.length, 16);
  return Buffer.concat([local, nameBuf, data, cd, nameBuf, eocd]);
}

/** Every trade record of a topic up to its current end, decoded, in partition order. */
export async function readTopicTrades(kafka: Kafka, topic: string): Promise<AggTrade[]> {
  const out: AggTrade[] = [];
  const f = await followTopic(kafka, {
    topic,
    groupPrefix: 'cli-test-read',
    onRecords: (records) => {
      for (const r of records) {
        const d = r.value ? decodeTradeRecord(r.value) : undefined;
        if (d?.ok) out.push(...d.value);
      }
    },
  });
  await f.caughtUp;
  await f.stop();
  return out;
}
