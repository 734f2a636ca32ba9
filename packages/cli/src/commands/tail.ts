import { QuestDbSql } from '@cvd/questdb';
import { latestBarsSql, mostActiveSql } from './bars-sql.js';
import { age, fmtNum, formatTable, parseCommandArgs, parseMarketSymbol, parsePositiveInt, str, tsMs, type Io } from './data-args.js';
import { DATA_ENV_HELP, parseDataEnv } from './data-env.js';

export const TAIL_HELP = `Usage: cvd tail [MARKET:SYMBOL…] [--top N] [--interval S] [--once]

Live CVD in the terminal: polls the newest (forming) bar of each symbol every second and
redraws a table — symbol, last price, CVD, the minute's delta, whether the bar is final, its
minute and age — until Ctrl-C. Without symbols: the most active symbols (most trades over the
last 15 minutes of bars, re-ranked every 30 s).

  --top N        how many symbols without a list (default 20)
  --interval S   seconds between polls (default 1)
  --once         print one table and exit

${DATA_ENV_HELP}
`;

export async function tailTable(sql: QuestDbSql, table: string, keys: { market: string; symbol: string }[], now: number): Promise<string> {
  const rows = keys.length ? await sql.rows(latestBarsSql(table, keys, keys.length)) : [];
  const order = new Map(keys.map((k, i) => [`${k.market}:${k.symbol}`, i]));
  rows.sort((a, b) => (order.get(`${String(a.market)}:${String(a.symbol)}`) ?? 0) - (order.get(`${String(b.market)}:${String(b.symbol)}`) ?? 0));
  const seen = new Set(rows.map((r) => `${String(r.market)}:${String(r.symbol)}`));
  const body = rows.map((r) => {
    const ts = tsMs(r.ts);
    return [`${String(r.market)}:${String(r.symbol)}`, fmtNum(r.close), fmtNum(r.cvd_close), fmtNum(r.delta), r.final ? 'yes' : 'no', new Date(ts).toISOString().slice(11, 16), age(now - ts - 60_000)];
  });
  for (const k of keys) if (!seen.has(`${k.market}:${k.symbol}`)) body.push([`${k.market}:${k.symbol}`, '', '', '', '', '', 'no bars']);
  return formatTable(['symbol', 'price', 'cvd', 'delta_1m', 'final', 'minute', 'age'], body);
}

export async function tailCommand(argv: string[], io: Io, envSource: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { top: { type: 'string' }, interval: { type: 'string' }, once: { type: 'boolean' }, table: { type: 'string' } }, TAIL_HELP);
  if (values.help) {
    io.out(TAIL_HELP);
    return 0;
  }
  const fixed = positionals.map((p) => parseMarketSymbol(p));
  const top = parsePositiveInt('top', str(values.top), 20, 500);
  const intervalMs = parsePositiveInt('interval', str(values.interval), 1, 3600) * 1000;
  const env = parseDataEnv(envSource);
  const table = str(values.table) ?? env.barTable;
  const sql = new QuestDbSql(env.questdb);
  let keys: { market: string; symbol: string }[] = fixed;
  let rankedAt = 0;
  const rank = async (now: number): Promise<void> => {
    if (fixed.length || now - rankedAt < 30_000) return;
    rankedAt = now;
    let rows = await sql.rows(mostActiveSql(table, now - 15 * 60_000, top));
    // Nothing in the last 15 minutes (a replay of old data, a stopped pipeline): the newest symbols.
    if (rows.length === 0) rows = await sql.rows(latestBarsSql(table, undefined, top));
    keys = rows.map((r) => ({ market: String(r.market), symbol: String(r.symbol) }));
  };
  const tty = process.stdout.isTTY === true && !values.once;
  const stop = new AbortController();
  const onSig = (): void => stop.abort();
  process.once('SIGINT', onSig);
  signal?.addEventListener('abort', onSig);
  try {
    for (;;) {
      const now = Date.now();
      await rank(now);
      const text = await tailTable(sql, table, keys, now);
      const head = `cvd tail — ${table} — ${new Date(now).toISOString().slice(0, 19)}Z${fixed.length ? '' : ` — top ${top} by trades (15 min)`}${tty ? ' — Ctrl-C to stop' : ''}`;
      io.out(tty ? `\x1b[H\x1b[2J${head}\n${text}` : `${head}\n${text}`);
      if (values.once) return 0;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, intervalMs);
        stop.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      if (stop.signal.aborted) return 0;
    }
  } finally {
    process.off('SIGINT', onSig);
  }
}
