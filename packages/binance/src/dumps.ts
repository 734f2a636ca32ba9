/**
 * data.binance.vision aggTrades dumps (`…/aggTrades/SYM/SYM-aggTrades-YYYY-MM[-DD].zip`).
 *
 * Columns: `agg_trade_id, price, quantity, first_trade_id, last_trade_id, transact_time,
 * is_buyer_maker` (+ `is_best_match` on spot). Handled per file, as the dumps vary:
 * - a header line or none (spot files have none, futures files since 2022 do): detected; a
 *   header with the known names maps columns by name;
 * - `transact_time` in microseconds (spot from 2025-01-01) or milliseconds: detected per row
 *   (≥ 1e14 is µs); `tradeTimeMs` is floored to ms and the µs value kept in `tradeTimeUs`;
 * - rows out of order (some monthly futures files): sorted by agg id; repeated ids dropped
 *   (counted in `duplicates`);
 * - zero quantities (some monthly futures files): counted in `zeroQuantity` and, by default,
 *   **dropped** — the CVD engine only accepts quantities > 0 and a zero changes no sum; their
 *   ids then count as missing in the bars (`missing_agg_ids`). `keepZeroQuantity: true` keeps them.
 * - booleans `true`/`false` in any case, or `1`/`0`.
 *
 * Pure: text in, trades out. `unzipFirstEntry`/`zipFirstEntry` read the zip container from a
 * Buffer (node:zlib, no I/O).
 */
import { inflateRawSync } from 'node:zlib';
import { CvdError, isSymbol, type Market } from '@cvd/core';
import { MICROSECOND_TIME_THRESHOLD, type FrameTrade } from './frames/core.js';

export const DUMP_ERROR_CODES = ['bad-row', 'bad-zip', 'bad-symbol'] as const;
export type DumpErrorCode = (typeof DUMP_ERROR_CODES)[number];

/** A dump that cannot be read as aggTrades. Never retriable: the same file fails the same way. */
export class DumpError extends CvdError<DumpErrorCode> {
  constructor(code: DumpErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(code, message, { cause: options.cause, retriable: false });
  }
}

export const DUMP_COLUMNS = ['agg_trade_id', 'price', 'quantity', 'first_trade_id', 'last_trade_id', 'transact_time', 'is_buyer_maker', 'is_best_match'] as const;

export interface DumpParseOptions {
  market: Market;
  symbol: string;
  /** Name used in error messages (the file name). */
  name?: string;
  /** Keep rows whose quantity is zero. @defaultValue false */
  keepZeroQuantity?: boolean;
}

export interface DumpParseResult {
  /** Sorted by agg id, unique ids. */
  trades: FrameTrade[];
  header: boolean;
  timeUnit: 'ms' | 'us' | 'mixed' | 'none';
  /** Data rows read (before dropping anything). */
  rows: number;
  duplicates: number;
  zeroQuantity: number;
  /** Whether the rows had to be sorted. */
  outOfOrder: boolean;
}

const INT = /^\d{1,16}$/;
const DECIMAL = /^\d{1,40}(\.\d{1,40})?$/;
const ZERO = /^0+(\.0+)?$/;

function bool(v: string | undefined): boolean | undefined {
  switch (v?.trim().toLowerCase()) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      return undefined;
  }
}

/** Incremental parser: feed text chunks (any split), then `finish()`. */
export class AggTradesDumpParser {
  private rest = '';
  private lineNo = 0;
  private started = false;
  private index: number[] = DUMP_COLUMNS.map((_, i) => i);
  private header = false;
  private sawMs = false;
  private sawUs = false;
  private rows = 0;
  private zero = 0;
  private lastId = -1;
  private outOfOrder = false;
  private readonly trades: FrameTrade[] = [];
  private readonly name: string;

  constructor(private readonly opts: DumpParseOptions) {
    if (!isSymbol(opts.symbol)) throw new DumpError('bad-symbol', `invalid symbol ${JSON.stringify(opts.symbol)}`);
    this.name = opts.name ?? `${opts.market}:${opts.symbol} aggTrades`;
  }

  /** Rows parsed so far. */
  get rowCount(): number {
    return this.rows;
  }

  push(chunk: string): void {
    const text = this.rest + chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.rest = text.slice(start);
  }

  private line(raw: string): void {
    this.lineNo++;
    const line = raw.trim();
    if (line === '') return;
    const cells = line.split(',');
    if (!this.started) {
      this.started = true;
      if (!INT.test(cells[0]?.trim() ?? '')) {
        this.header = true;
        const lower = cells.map((c) => c.trim().toLowerCase());
        const mapped = DUMP_COLUMNS.map((c) => lower.indexOf(c));
        if (mapped.slice(0, 7).every((i) => i >= 0)) this.index = mapped;
        else if (cells.length < 7) this.bad('header with fewer than 7 columns', line);
        return;
      }
    }
    const cell = (k: number): string | undefined => {
      const i = this.index[k] ?? -1;
      return i < 0 ? undefined : cells[i]?.trim();
    };
    const a = cell(0);
    const p = cell(1);
    const q = cell(2);
    const f = cell(3);
    const l = cell(4);
    const t = cell(5);
    const m = bool(cell(6));
    if (a === undefined || !INT.test(a)) return this.bad('bad agg_trade_id', line);
    if (p === undefined || !DECIMAL.test(p)) return this.bad('bad price', line);
    if (q === undefined || !DECIMAL.test(q)) return this.bad('bad quantity', line);
    if (f === undefined || !INT.test(f) || l === undefined || !INT.test(l) || Number(l) < Number(f)) return this.bad('bad first/last trade id', line);
    if (t === undefined || !INT.test(t)) return this.bad('bad transact_time', line);
    if (m === undefined) return this.bad('bad is_buyer_maker', line);
    this.rows++;
    if (ZERO.test(q)) {
      this.zero++;
      if (!this.opts.keepZeroQuantity) return;
    }
    const tv = Number(t);
    const micro = tv >= MICROSECOND_TIME_THRESHOLD;
    if (micro) this.sawUs = true;
    else this.sawMs = true;
    const T = micro ? Math.floor(tv / 1000) : tv;
    const aggId = Number(a);
    if (aggId <= this.lastId) this.outOfOrder = true;
    this.lastId = Math.max(this.lastId, aggId);
    this.trades.push({
      market: this.opts.market,
      symbol: this.opts.symbol,
      aggId,
      price: p,
      qty: q,
      firstId: Number(f),
      lastId: Number(l),
      tradeTimeMs: T,
      eventTimeMs: T,
      buyerMaker: m,
      ...(micro ? { tradeTimeUs: tv } : {}),
    });
  }

  private bad(what: string, line: string): never {
    throw new DumpError('bad-row', `${this.name}: line ${this.lineNo}: ${what}: ${line.slice(0, 120)}`);
  }

  finish(): DumpParseResult {
    if (this.rest !== '') {
      const last = this.rest;
      this.rest = '';
      this.line(last);
    }
    let trades = this.trades;
    let duplicates = 0;
    if (this.outOfOrder) {
      trades.sort((x, y) => x.aggId - y.aggId);
      trades = trades.filter((t, i) => {
        const dup = i > 0 && (trades[i - 1] as FrameTrade).aggId === t.aggId;
        if (dup) duplicates++;
        return !dup;
      });
    }
    const timeUnit = this.sawUs && this.sawMs ? 'mixed' : this.sawUs ? 'us' : this.sawMs ? 'ms' : 'none';
    return { trades, header: this.header, timeUnit, rows: this.rows, duplicates, zeroQuantity: this.zero, outOfOrder: this.outOfOrder };
  }
}

/** Parses a whole dump's text. Throws `DumpError('bad-row')` naming the line of the first bad row. */
export function parseAggTradesDump(text: string, opts: DumpParseOptions): DumpParseResult {
  const p = new AggTradesDumpParser(opts);
  p.push(text);
  return p.finish();
}

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: 0 | 8;
  /** The entry's bytes as stored (deflate-raw when method 8). */
  data: Buffer;
  uncompressedSize: number;
}

/**
 * The first entry of a .zip archive (data.binance.vision ships one CSV per zip), located
 * through the central directory so data descriptors don't matter. Zip64 is not supported
 * (entries over 4 GiB). Throws `DumpError('bad-zip')`.
 */
export function zipFirstEntry(zip: Buffer): ZipEntry {
  const bad = (why: string): never => {
    throw new DumpError('bad-zip', `not a readable zip: ${why}`);
  };
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad('no end of central directory');
  if (zip.readUInt16LE(eocd + 10) === 0) bad('the archive is empty');
  const cd = zip.readUInt32LE(eocd + 16);
  if (cd === 0xffffffff) bad('zip64 archives are not supported');
  if (cd + 46 > zip.length || zip.readUInt32LE(cd) !== 0x02014b50) bad('bad central directory');
  const method = zip.readUInt16LE(cd + 10);
  const size = zip.readUInt32LE(cd + 20);
  const uncompressedSize = zip.readUInt32LE(cd + 24);
  const nameLen = zip.readUInt16LE(cd + 28);
  const name = zip.subarray(cd + 46, cd + 46 + nameLen).toString('utf8');
  const local = zip.readUInt32LE(cd + 42);
  if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50) bad('bad local header');
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  if (start + size > zip.length) bad('truncated entry');
  if (method !== 0 && method !== 8) bad(`unsupported compression method ${method}`);
  return { name, method: method as 0 | 8, data: zip.subarray(start, start + size), uncompressedSize };
}

/** The first entry's content, inflated. */
export function unzipFirstEntry(zip: Buffer): Buffer {
  const e = zipFirstEntry(zip);
  if (e.method === 0) return e.data;
  try {
    return inflateRawSync(e.data);
  } catch (err) {
    throw new DumpError('bad-zip', `not a readable zip: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * What a dump's path tells: the market from a `data/spot/`, `data/futures/um/` or
 * `data/futures/cm/` segment, the symbol from the file name `SYM-aggTrades-YYYY-MM[-DD].zip|csv`.
 */
export function dumpPathInfo(path: string): { market?: Market; symbol?: string } {
  const p = path.replace(/\\/g, '/');
  const out: { market?: Market; symbol?: string } = {};
  if (/(^|\/)futures\/um\//i.test(p)) out.market = 'usdm';
  else if (/(^|\/)futures\/cm\//i.test(p)) out.market = 'coinm';
  else if (/(^|\/)spot\//i.test(p)) out.market = 'spot';
  const file = p.split('/').pop() ?? '';
  const m = /^(.+?)-aggTrades-\d{4}-\d{2}(?:-\d{2})?(?:\.[A-Za-z]+)*$/.exec(file);
  if (m?.[1] && isSymbol(m[1])) out.symbol = m[1];
  return out;
}
