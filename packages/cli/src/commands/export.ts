import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { QuestDbSql, type QuestDbSettings } from '@cvd/questdb';
import { CliUsageError } from '../env.js';
import { resolveMarket } from './bars.js';
import { exportSql } from './bars-sql.js';
import { csvLine, fullRow, LAYOUTS, LEGACY_HEADER, legacyRow, type Layout } from './csv.js';
import { CliFailure, MINUTE_MS, parseCommandArgs, parseTime, sqlString, sqlTimestamp, str, type Io } from './data-args.js';
import { DATA_ENV_HELP, parseDataEnv } from './data-env.js';

export const EXPORT_HELP = `Usage: cvd export [MARKET:]SYMBOL --from T --to T [--market M] [--format csv|parquet]
                  [--layout legacy|full] [--out FILE]

Exports the 1-minute bars of one symbol in [from, to) (UTC), oldest first.

  --format csv      (default) RFC 4180, UTF-8, '\\n' line ends
  --format parquet  written by QuestDB itself (its /exp endpoint, fmt=parquet); needs --out
  --layout legacy   (default) the old monitor's per-symbol layout, one row per minute:
                    timestamp,symbol,cvd,buy_volume,sell_volume,delta
                    timestamp = minute open, ISO 8601 UTC (2024-05-01T12:00:00Z); cvd = closing
                    CVD of the minute and delta = buy - sell, exact decimals; volumes in base
                    units (COIN-M: contracts), plain decimal notation
  --layout full     every column of the bar table under its own name
  --from/--to T     ISO (UTC unless an offset is given), epoch ms, -2h, now
  --out FILE        write to FILE (via FILE.partial, renamed when complete); default stdout

${DATA_ENV_HELP}
`;

const DAY_MS = 86_400_000;

function authHeaders(s: QuestDbSettings): Record<string, string> {
  if (s.username && s.password !== undefined) return { authorization: `Basic ${Buffer.from(`${s.username}:${s.password}`).toString('base64')}` };
  if (s.token) return { authorization: `Bearer ${s.token}` };
  return {};
}

class Sink {
  private constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly file: string | undefined,
  ) {}

  static open(file: string | undefined): Sink {
    return new Sink(file ? createWriteStream(`${file}.partial`) : process.stdout, file);
  }

  async write(text: string): Promise<void> {
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  async commit(): Promise<void> {
    if (!this.file) return;
    const ws = this.stream as WriteStream;
    await new Promise<void>((resolve, reject) => ws.end((err?: Error | null) => (err ? reject(err) : resolve())));
    renameSync(`${this.file}.partial`, this.file);
  }

  abort(): void {
    if (!this.file) return;
    (this.stream as WriteStream).destroy();
    rmSync(`${this.file}.partial`, { force: true });
  }
}

/** The SQL QuestDB turns into Parquet: typed columns (legacy: ts as `timestamp`, the DOUBLE cvd/delta). */
export function parquetSql(table: string, layout: Layout, market: string, symbol: string, fromMs: number, toMs: number): string {
  const where = `WHERE market = ${sqlString(market)} AND symbol = ${sqlString(symbol)} AND ts >= ${sqlTimestamp(fromMs)} AND ts < ${sqlTimestamp(toMs)}`;
  if (layout === 'full') return `SELECT * FROM ${table} ${where} ORDER BY ts`;
  return `SELECT ts AS "timestamp", symbol, cvd_close AS cvd, buy_volume, sell_volume, delta FROM ${table} ${where} ORDER BY ts`;
}

export async function exportCommand(argv: string[], io: Io, envSource: NodeJS.ProcessEnv = process.env, now = Date.now()): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { market: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string' }, layout: { type: 'string' }, out: { type: 'string' }, table: { type: 'string' } },
    EXPORT_HELP,
  );
  if (values.help) {
    io.out(EXPORT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new CliUsageError(`export needs exactly one SYMBOL\n\n${EXPORT_HELP}`);
  const fromRaw = str(values.from);
  const toRaw = str(values.to);
  if (fromRaw === undefined || toRaw === undefined) throw new CliUsageError('export needs --from and --to');
  const fromMs = parseTime('from', fromRaw, now);
  const toMs = parseTime('to', toRaw, now);
  if (!(toMs > fromMs)) throw new CliUsageError('--to must be after --from');
  const format = str(values.format) ?? 'csv';
  if (format !== 'csv' && format !== 'parquet') throw new CliUsageError(`--format expects csv or parquet, got ${JSON.stringify(format)}`);
  const layout = (str(values.layout) ?? 'legacy') as Layout;
  if (!LAYOUTS.includes(layout)) throw new CliUsageError(`--layout expects legacy or full, got ${JSON.stringify(layout)}`);
  const out = str(values.out);
  if (format === 'parquet' && !out) throw new CliUsageError('--format parquet needs --out FILE');
  const env = parseDataEnv(envSource);
  const table = str(values.table) ?? env.barTable;
  const sql = new QuestDbSql(env.questdb);
  const { market, symbol } = await resolveMarket(sql, table, positionals[0] as string, str(values.market));
  const sink = Sink.open(out);
  const started = Date.now();
  try {
    if (format === 'parquet') {
      const q = parquetSql(table, layout, market, symbol, fromMs, toMs);
      let res: Response;
      try {
        res = await fetch(`${env.questdb.httpUrl}/exp?fmt=parquet&query=${encodeURIComponent(q)}`, { headers: authHeaders(env.questdb) });
      } catch (err) {
        throw new CliFailure('unreachable', `QuestDB at ${env.questdb.httpUrl} is unreachable: ${(err as Error).message}`, { cause: err });
      }
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => '');
        throw new CliFailure('failed', `QuestDB could not export Parquet (${res.status}): ${text.slice(0, 200)} — this needs QuestDB 9.1+ (/exp?fmt=parquet); use --format csv instead`);
      }
      const ws = createWriteStream(`${out}.partial`);
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), ws);
      renameSync(`${out}.partial`, out as string);
      io.err(`wrote ${out} (Parquet, ${layout} layout) in ${Date.now() - started} ms`);
      return 0;
    }
    let rows = 0;
    let headerDone = false;
    if (layout === 'legacy') {
      await sink.write(csvLine(LEGACY_HEADER));
      headerDone = true;
    }
    const total = toMs - fromMs;
    let lastProgress = 0;
    // One day per query: at most 1440 rows per symbol, a bounded response whatever the range.
    for (let lo = fromMs; lo < toMs; lo += DAY_MS) {
      const hi = Math.min(toMs, lo + DAY_MS);
      const r = await sql.exec(exportSql(table, market, symbol, lo, hi));
      const columns = r.columns.map((c) => c.name);
      if (!headerDone && columns.length) {
        await sink.write(csvLine(columns));
        headerDone = true;
      }
      for (const row of r.dataset) {
        const fields = layout === 'legacy' ? legacyRow(Object.fromEntries(columns.map((c, i) => [c, row[i]]))) : fullRow(columns, row);
        await sink.write(csvLine(fields));
        rows++;
      }
      if (out && Date.now() - lastProgress > 1000) {
        lastProgress = Date.now();
        io.err(`  ${new Date(hi).toISOString().slice(0, 16)}Z  ${Math.round(((hi - fromMs) / total) * 100)}%  ${rows} rows`);
      }
    }
    if (!headerDone) {
      // No rows at all (the full layout takes its header from the query): the table's columns.
      const r = await sql.exec(`${exportSql(table, market, symbol, fromMs, toMs)} LIMIT 0`);
      await sink.write(csvLine(r.columns.map((c) => c.name)));
    }
    await sink.commit();
    const minutes = Math.ceil(total / MINUTE_MS);
    io.err(`exported ${rows} bars of ${market}:${symbol} (${minutes} minutes in range, ${layout} layout)${out ? ` to ${out}` : ''} in ${Date.now() - started} ms`);
    return 0;
  } catch (err) {
    sink.abort();
    if (out) rmSync(`${out}.partial`, { force: true });
    throw err;
  }
}
