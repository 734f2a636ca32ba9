/**
 * data.binance.vision aggTrades CSV (spot or futures). Columns: agg_trade_id, price, quantity,
 * first_trade_id, last_trade_id, transact_time, is_buyer_maker[, is_best_match]. Spot files
 * have no header, futures files since 2022 do: detected per file. Spot times are µs from
 * 2025-01-01 (16 digits), ms before and in futures files: detected per row. Some monthly
 * futures files have rows out of order: sorted by id (duplicates dropped).
 */
import { inflateRawSync } from 'node:zlib';
import { SimulatorError } from '../errors.js';
import { isDecimalString } from '../decimal.js';
import type { Market, SimTrade } from '../types.js';

export interface CsvParseOptions {
  market: Market;
  symbol: string;
  /** Added to `T` to make `E`. @defaultValue 0 */
  eventLagMs?: number;
  /** Name used in error messages. */
  name?: string;
}

export interface CsvParseResult {
  trades: SimTrade[];
  header: boolean;
  timeUnit: 'ms' | 'us' | 'mixed' | 'none';
  /** Rows dropped because their id was already seen. */
  duplicates: number;
}

const INT_RE = /^\d+$/;
const COLUMNS = ['agg_trade_id', 'price', 'quantity', 'first_trade_id', 'last_trade_id', 'transact_time', 'is_buyer_maker', 'is_best_match'] as const;

function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  return undefined;
}

export function parseAggTradesCsv(text: string, opts: CsvParseOptions): CsvParseResult {
  const name = opts.name ?? `${opts.market}:${opts.symbol} csv`;
  const lines = text.split(/\r?\n/);
  let header = false;
  let index: number[] = COLUMNS.map((_, i) => i);
  let first = 0;
  while (first < lines.length && (lines[first] ?? '').trim() === '') first++;
  const firstCells = (lines[first] ?? '').split(',').map((c) => c.trim());
  if (firstCells.length > 0 && !INT_RE.test(firstCells[0] ?? '')) {
    header = true;
    const lower = firstCells.map((c) => c.toLowerCase());
    const mapped = COLUMNS.map((c) => lower.indexOf(c));
    // Known column names: map by name; otherwise assume the documented order.
    if (mapped.slice(0, 7).every((i) => i >= 0)) index = mapped;
    first++;
  }
  const lag = opts.eventLagMs ?? 0;
  const trades: SimTrade[] = [];
  let sawMs = false;
  let sawUs = false;
  for (let n = first; n < lines.length; n++) {
    const line = (lines[n] ?? '').trim();
    if (line === '') continue;
    const cells = line.split(',');
    const cell = (k: number): string | undefined => {
      const i = index[k] ?? -1;
      return i < 0 ? undefined : cells[i]?.trim();
    };
    const bad = (what: string): never => {
      throw new SimulatorError('bad-source', `${name}: line ${n + 1}: ${what}: ${line.slice(0, 120)}`);
    };
    const [a, p, q, f, l, t] = [cell(0), cell(1), cell(2), cell(3), cell(4), cell(5)];
    if (a === undefined || !INT_RE.test(a)) bad('bad agg_trade_id');
    if (!isDecimalString(p)) bad('bad price');
    if (!isDecimalString(q)) bad('bad quantity');
    if (f === undefined || !INT_RE.test(f) || l === undefined || !INT_RE.test(l)) bad('bad trade ids');
    if (t === undefined || !INT_RE.test(t)) bad('bad transact_time');
    const m = parseBool(cell(6));
    if (m === undefined) bad('bad is_buyer_maker');
    const micro = (t as string).length >= 16;
    if (micro) sawUs = true;
    else sawMs = true;
    const tv = Number(t);
    const Tus = micro ? tv : tv * 1000;
    const T = Math.floor(Tus / 1000);
    trades.push({
      market: opts.market,
      symbol: opts.symbol,
      a: Number(a),
      p: p as string,
      q: q as string,
      f: Number(f),
      l: Number(l),
      T,
      Tus,
      E: T + lag,
      m: m as boolean,
      M: parseBool(cell(7)) ?? true,
    });
  }
  trades.sort((x, y) => x.a - y.a);
  let duplicates = 0;
  const unique = trades.filter((t, i) => {
    const dup = i > 0 && (trades[i - 1] as SimTrade).a === t.a;
    if (dup) duplicates++;
    return !dup;
  });
  const timeUnit = sawUs && sawMs ? 'mixed' : sawUs ? 'us' : sawMs ? 'ms' : 'none';
  return { trades: unique, header, timeUnit, duplicates };
}

/**
 * The first entry of a .zip archive (data.binance.vision ships one CSV per zip): stored or
 * deflated, located through the central directory so data descriptors don't matter.
 */
export function unzipFirstEntry(zip: Buffer): Buffer {
  const bad = (why: string): never => {
    throw new SimulatorError('bad-source', `zip: ${why}`);
  };
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad('no end of central directory');
  const cd = zip.readUInt32LE(eocd + 16);
  if (zip.readUInt32LE(cd) !== 0x02014b50) bad('bad central directory');
  const method = zip.readUInt16LE(cd + 10);
  const size = zip.readUInt32LE(cd + 20);
  const local = zip.readUInt32LE(cd + 42);
  if (zip.readUInt32LE(local) !== 0x04034b50) bad('bad local header');
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const data = zip.subarray(start, start + size);
  if (method === 0) return data;
  if (method === 8) return inflateRawSync(data);
  return bad(`unsupported compression method ${method}`);
}
