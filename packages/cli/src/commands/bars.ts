import { isMarket } from '@cvd/core';
import { QuestDbSql, viewName } from '@cvd/questdb';
import { CliUsageError } from '../env.js';
import { barsSql, marketsOfSymbolSql, parseTimeframe, tableExistsSql } from './bars-sql.js';
import { checkSymbol, fmtNum, formatTable, parseCommandArgs, parsePositiveInt, parseTime, str, tsMs, type Io } from './data-args.js';
import { DATA_ENV_HELP, parseDataEnv } from './data-env.js';

export const BARS_HELP = `Usage: cvd bars [MARKET:]SYMBOL [--market M] [--tf 1m|5m|15m|1h|4h|1d] [--last N] [--from T] [--to T] [--json]

Prints CVD bars of one symbol from QuestDB: 1m from the bar table, longer timeframes from the
materialized views (cvd_bars_5m, …), or computed from the 1m rows with SAMPLE BY when a view
does not exist. Times are UTC.

  --market M    spot, usdm or coinm (default: the market that has the symbol, if only one)
  --tf TF       timeframe (default 1m)
  --last N      the last N bars (default 30; ignored with --from)
  --from/--to T range [from, to): ISO (UTC unless an offset is given), epoch ms, -2h, now
  --json        one JSON object per line instead of a table

${DATA_ENV_HELP}
`;

export async function resolveMarket(sql: QuestDbSql, table: string, symbolArg: string, marketOpt: string | undefined): Promise<{ market: string; symbol: string }> {
  let market = marketOpt;
  let symbol = symbolArg;
  const i = symbolArg.indexOf(':');
  if (i >= 0) {
    if (market && market !== symbolArg.slice(0, i)) throw new CliUsageError(`--market ${market} contradicts ${symbolArg}`);
    market = symbolArg.slice(0, i);
    symbol = symbolArg.slice(i + 1);
  }
  checkSymbol(symbol);
  if (market !== undefined) {
    if (!isMarket(market)) throw new CliUsageError(`unknown market ${JSON.stringify(market)} (spot, usdm, coinm)`);
    return { market, symbol };
  }
  const rows = await sql.rows(marketsOfSymbolSql(table, symbol));
  const markets = rows.map((r) => String(r.market)).sort();
  if (markets.length === 0) throw new CliUsageError(`no bars for ${symbol} in ${table}; check the symbol or pass --market`);
  if (markets.length > 1) throw new CliUsageError(`${symbol} has bars in several markets (${markets.join(', ')}); pass --market`);
  return { market: markets[0] as string, symbol };
}

export async function barsCommand(argv: string[], io: Io, envSource: NodeJS.ProcessEnv = process.env, now = Date.now()): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { market: { type: 'string' }, tf: { type: 'string' }, last: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' }, table: { type: 'string' } },
    BARS_HELP,
  );
  if (values.help) {
    io.out(BARS_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new CliUsageError(`bars needs exactly one SYMBOL\n\n${BARS_HELP}`);
  const tf = parseTimeframe(str(values.tf));
  const fromMs = str(values.from) !== undefined ? parseTime('from', str(values.from) as string, now) : undefined;
  const toMs = str(values.to) !== undefined ? parseTime('to', str(values.to) as string, now) : undefined;
  const last = fromMs === undefined ? parsePositiveInt('last', str(values.last), 30, 100_000) : undefined;
  const env = parseDataEnv(envSource);
  const table = str(values.table) ?? env.barTable;
  const sql = new QuestDbSql(env.questdb);
  const { market, symbol } = await resolveMarket(sql, table, positionals[0] as string, str(values.market));
  const viewExists = tf === '1m' ? true : (await sql.exec(tableExistsSql(viewName(tf, table)))).count > 0;
  const rows = await sql.rows(barsSql({ table, market, symbol, tf, viewExists, ...(last !== undefined ? { last } : {}), ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}) }));
  if (last !== undefined) rows.reverse();
  if (values.json) {
    for (const r of rows) io.out(JSON.stringify({ ...r, market, symbol }));
    return 0;
  }
  const source = tf === '1m' ? table : viewExists ? viewName(tf, table) : `${table} SAMPLE BY ${tf}`;
  io.out(`${market}:${symbol} ${tf} bars from ${source} (UTC)`);
  io.out(
    formatTable(
      ['ts', 'open', 'high', 'low', 'close', 'volume', 'buy', 'sell', 'delta', 'cvd_open', 'cvd_close', 'trades', 'missing', 'final'],
      rows.map((r) => [
        new Date(tsMs(r.ts)).toISOString().slice(0, 16).replace('T', ' '),
        fmtNum(r.open), fmtNum(r.high), fmtNum(r.low), fmtNum(r.close),
        fmtNum(r.volume), fmtNum(r.buy_volume), fmtNum(r.sell_volume), fmtNum(r.delta),
        fmtNum(r.cvd_open), fmtNum(r.cvd_close), fmtNum(r.trades), fmtNum(r.missing_agg_ids), r.final ? 'yes' : 'no',
      ]),
    ),
  );
  io.out(`${rows.length} bar${rows.length === 1 ? '' : 's'}`);
  return 0;
}
