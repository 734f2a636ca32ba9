import { isRetriable } from '@cvd/core';
import { applyBatch, createState, decimal, type BarRow, type EngineTrade } from '@cvd/engine';
import { followTopic } from '@cvd/kafka';
import { BarWriter, QuestDbSql } from '@cvd/questdb';
import { decodeTradeRecord } from '@cvd/schemas';
import { CliUsageError } from '../env.js';
import { plainNumber } from './csv.js';
import { CliFailure, MINUTE_MS, parseCommandArgs, parseMarketSymbol, parseTime, sqlString, sqlTimestamp, str, tsMs, type Io } from './data-args.js';
import { cliKafka, DATA_ENV_HELP, parseDataEnv, requireKafka } from './data-env.js';

export const REBUILD_HELP = `Usage: cvd rebuild --from T --to T [--symbols M:S,…] [--force] [--dry-run]

Re-aggregates the 1-minute bars of [from, to) from the trades topic, for trades the live
aggregator could not apply (older than its revision horizon: imported history, late fills):

  1. reads every partition of the trades topic from the beginning (its retention, default 7
     days, bounds what can be rebuilt) and keeps the trades of the selected symbols whose
     trade time is in [from, to); dedupes on agg id, sorts by agg id;
  2. anchors the CVD at the exact cvd_close (cvd_close_exact) of the symbol's last bar before
     --from (0 if there is none) and computes the bars with the engine (all final);
  3. upserts them, then shifts the CVD columns of the symbol's bars at or after --to by the
     exact difference between the new and the old CVD at --to (and corrects the first later
     bar's missing_agg_ids), so the chain stays continuous.

  --from/--to T    whole UTC minutes, --to not after the current minute: ISO (UTC unless an
                   offset is given), epoch ms, -2h, now
  --symbols LIST   market:SYMBOL,… (default: every symbol with trades in the range)
  --force          rebuild even if bars in the range have no trades on the topic (retention)
  --dry-run        compute and report, write nothing

Stop the aggregator or rebuild ranges whose later bars are outside its revision horizon: the
running aggregator keeps its own CVD for bars it still holds and rewrites them unshifted.

${DATA_ENV_HELP}
`;

const GRACE_MS = 5_000;

interface ExistingBar {
  ts: number;
  lastAggId: number;
  cvdClose: string;
}

function exactOr(exact: unknown, dbl: unknown): string {
  return typeof exact === 'string' && exact !== '' ? exact : plainNumber(Number(dbl ?? 0));
}

/** A 1m table row (as /exec returns it) back to a BarRow, decimals as the shortest text of each DOUBLE. */
export function rowToBar(r: Record<string, unknown>): BarRow {
  const n = (k: string): string => plainNumber(Number(r[k] ?? 0));
  return {
    ts: tsMs(r.ts),
    market: String(r.market) as BarRow['market'],
    symbol: String(r.symbol),
    open: n('open'), high: n('high'), low: n('low'), close: n('close'),
    volume: n('volume'), buyVolume: n('buy_volume'), sellVolume: n('sell_volume'),
    quoteVolume: n('quote_volume'), buyQuoteVolume: n('buy_quote_volume'), sellQuoteVolume: n('sell_quote_volume'),
    delta: exactOr(r.delta_exact, r.delta), quoteDelta: n('quote_delta'),
    cvdOpen: n('cvd_open'), cvdHigh: n('cvd_high'), cvdLow: n('cvd_low'), cvdClose: exactOr(r.cvd_close_exact, r.cvd_close),
    trades: Number(r.trades ?? 0), aggTrades: Number(r.agg_trades ?? 0), firstAggId: Number(r.first_agg_id ?? 0), lastAggId: Number(r.last_agg_id ?? 0),
    missingAggIds: Number(r.missing_agg_ids ?? 0), recovered: Number(r.recovered ?? 0), final: r.final === true,
  };
}

/**
 * Shifts a run of consecutive later bars (oldest first) by `shift` (exact decimal text):
 * cvd_close exactly; cvd_open = the previous bar's new close (the chain); cvd_high/low from their
 * stored DOUBLEs (exact when they equal the bar's open or close, else the DOUBLE's shortest decimal
 * text plus the shift). `prevClose` is the new close of the bar before the first one.
 */
export function shiftBars(bars: readonly BarRow[], shift: string, prevClose: string): BarRow[] {
  const d = decimal(shift);
  let prev = prevClose;
  return bars.map((b) => {
    const oldOpen = decimal(b.cvdOpen);
    const oldClose = decimal(b.cvdClose);
    const newOpen = prev;
    const newClose = oldClose.add(d).toString();
    const moved = (v: string): string => {
      if (Number(v) === Number(b.cvdClose)) return newClose;
      if (Number(v) === oldOpen.toNumber()) return decimal(newOpen).toString();
      return decimal(v).add(d).toString();
    };
    prev = newClose;
    return { ...b, cvdOpen: newOpen, cvdHigh: moved(b.cvdHigh), cvdLow: moved(b.cvdLow), cvdClose: newClose };
  });
}

export async function rebuildCommand(argv: string[], io: Io, envSource: NodeJS.ProcessEnv = process.env, now = Date.now()): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { from: { type: 'string' }, to: { type: 'string' }, symbols: { type: 'string' }, force: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, table: { type: 'string' } },
    REBUILD_HELP,
  );
  if (values.help) {
    io.out(REBUILD_HELP);
    return 0;
  }
  if (positionals.length) throw new CliUsageError(`rebuild takes no positional arguments (use --symbols)\n\n${REBUILD_HELP}`);
  const fromRaw = str(values.from);
  const toRaw = str(values.to);
  if (fromRaw === undefined || toRaw === undefined) throw new CliUsageError('rebuild needs --from and --to');
  const fromMs = parseTime('from', fromRaw, now);
  const toMs = parseTime('to', toRaw, now);
  if (fromMs % MINUTE_MS !== 0 || toMs % MINUTE_MS !== 0) throw new CliUsageError('--from and --to must be whole UTC minutes (e.g. 2024-05-01T12:00Z)');
  if (!(toMs > fromMs)) throw new CliUsageError('--to must be after --from');
  if (toMs > now - (now % MINUTE_MS)) throw new CliUsageError('--to must not be after the start of the current minute (forming bars belong to the aggregator)');
  const wanted = str(values.symbols)?.split(',').map((s) => s.trim()).filter(Boolean).map((s) => parseMarketSymbol(s));
  const wantedKeys = wanted ? new Set(wanted.map((w) => `${w.market}:${w.symbol}`)) : undefined;
  const env = parseDataEnv(envSource);
  const table = str(values.table) ?? env.barTable;
  const dry = values['dry-run'] === true;
  const sql = new QuestDbSql(env.questdb);
  await sql.exec(`SELECT 1 FROM ${table} LIMIT 1`).catch((err: Error) => {
    throw new CliFailure(isRetriable(err) ? 'unreachable' : 'failed', `cannot read ${table} from QuestDB at ${env.questdb.httpUrl}: ${err.message}`, { cause: err });
  });

  // 1. Trades of the range from the topic.
  await requireKafka(env);
  const kafka = cliKafka(env, 'cvd-cli-rebuild');
  const admin = kafka.admin();
  let total = 0n;
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(env.topics.trades);
    for (const o of offsets) total += BigInt(o.high) - BigInt(o.low);
  } catch (err) {
    throw new CliFailure('unreachable', `cannot read topic ${env.topics.trades} from Kafka at ${env.brokers.join(',')}: ${(err as Error).message}`, { cause: err });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  io.err(`reading ${total} records of ${env.topics.trades} (all partitions, from the beginning)…`);
  const byKey = new Map<string, Map<number, EngineTrade>>();
  let read = 0;
  let kept = 0;
  let undecodable = 0;
  let lastProgress = Date.now();
  const started = Date.now();
  const follower = await followTopic(kafka, {
    topic: env.topics.trades,
    groupPrefix: 'cvd-cli-rebuild',
    onRecords: (records) => {
      for (const r of records) {
        read++;
        const k = r.key?.toString('utf8');
        if (!k || (wantedKeys && !wantedKeys.has(k)) || !r.value) continue;
        const d = decodeTradeRecord(r.value);
        if (!d.ok) {
          undecodable++;
          continue;
        }
        for (const t of d.value) {
          if (t.tradeTimeMs < fromMs || t.tradeTimeMs >= toMs) continue;
          const tk = `${t.market}:${t.symbol}`;
          let m = byKey.get(tk);
          if (!m) byKey.set(tk, (m = new Map()));
          if (!m.has(t.aggId)) {
            m.set(t.aggId, t);
            kept++;
          }
        }
      }
      if (Date.now() - lastProgress > 1000) {
        lastProgress = Date.now();
        io.err(`  read ${read}/${total} records (${total > 0n ? Math.min(100, Math.round((read / Number(total)) * 100)) : 100}%), ${kept} trades in range, ${Math.round(read / Math.max(0.001, (Date.now() - started) / 1000))} records/s`);
      }
    },
  });
  try {
    await follower.caughtUp;
  } finally {
    await follower.stop();
  }
  io.err(`read ${read} records: ${kept} unique trades in range for ${byKey.size} symbol${byKey.size === 1 ? '' : 's'}${undecodable ? `, ${undecodable} undecodable records skipped` : ''}`);
  const keys = wanted ? wanted.map((w) => `${w.market}:${w.symbol}`) : [...byKey.keys()].sort();

  const writer = dry ? undefined : new BarWriter(env.questdb, { table });
  let failed = 0;
  try {
    for (const k of keys) {
      const i = k.indexOf(':');
      const market = k.slice(0, i);
      const symbol = k.slice(i + 1);
      const where = `market = ${sqlString(market)} AND symbol = ${sqlString(symbol)}`;
      const trades = [...(byKey.get(k)?.values() ?? [])].sort((a, b) => a.aggId - b.aggId);

      // 2. Anchor and the old chain at --to.
      const prev = (await sql.rows(`SELECT ts, last_agg_id, cvd_close, cvd_close_exact FROM ${table} WHERE ${where} AND ts < ${sqlTimestamp(fromMs)} ORDER BY ts DESC LIMIT 1`))[0];
      const anchor = prev ? exactOr(prev.cvd_close_exact, prev.cvd_close) : '0';
      const prevLastId = prev ? Number(prev.last_agg_id) : undefined;
      const old: ExistingBar[] = (await sql.rows(`SELECT ts, last_agg_id, cvd_close, cvd_close_exact FROM ${table} WHERE ${where} AND ts >= ${sqlTimestamp(fromMs)} AND ts < ${sqlTimestamp(toMs)} ORDER BY ts`)).map((r) => ({
        ts: tsMs(r.ts),
        lastAggId: Number(r.last_agg_id),
        cvdClose: exactOr(r.cvd_close_exact, r.cvd_close),
      }));
      const oldAtTo = old.at(-1)?.cvdClose ?? anchor;
      const oldLastId = old.at(-1)?.lastAggId ?? prevLastId;

      // 3. New bars with the engine.
      const state = createState({ graceMs: GRACE_MS, horizonMs: toMs - fromMs + 86_400_000, anchors: { [k]: anchor } });
      const latest = new Map<number, BarRow>();
      const maxT = trades.length ? Math.max(...trades.map((t) => t.tradeTimeMs)) : fromMs;
      const r1 = applyBatch(state, trades, maxT);
      const r2 = applyBatch(state, [], toMs + MINUTE_MS + GRACE_MS);
      for (const row of [...r1.upserts, ...r2.upserts]) latest.set(row.ts, row);
      const bars = [...latest.values()].sort((a, b) => a.ts - b.ts);
      if (r1.rejected.length) io.err(`  ${k}: ${r1.rejected.length} trades rejected by the engine (${[...new Set(r1.rejected.map((x) => x.reason))].join(', ')})`);
      const first = bars[0];
      if (first && prevLastId !== undefined && first.firstAggId > prevLastId + 1) {
        // The hole between the bar before --from and the first rebuilt trade belongs to the first rebuilt bar.
        bars[0] = { ...first, missingAggIds: first.missingAggIds + (first.firstAggId - prevLastId - 1) };
      }
      const newTs = new Set(bars.map((b) => b.ts));
      const orphans = old.filter((b) => !newTs.has(b.ts));
      if (orphans.length && !values.force) {
        io.err(`cvd: ${k}: ${orphans.length} bars in the range (first ${new Date(orphans[0]?.ts ?? 0).toISOString()}) have no trades on ${env.topics.trades} (deleted by retention?); nothing written for this symbol (--force rebuilds anyway, keeping those bars as they are)`);
        failed++;
        continue;
      }
      const newAtTo = bars.at(-1)?.cvdClose ?? anchor;
      const newLastId = bars.at(-1)?.lastAggId ?? prevLastId;
      const shift = decimal(newAtTo).sub(decimal(oldAtTo)).toString();

      // 4. Later bars: shift the chain, fix the hole below the first one.
      const laterRows = await sql.rows(`SELECT * FROM ${table} WHERE ${where} AND ts >= ${sqlTimestamp(toMs)} ORDER BY ts`);
      let later = laterRows.map(rowToBar);
      const firstLater = later[0];
      let missingFix = 0;
      if (firstLater) {
        const hole = (below: number | undefined): number => (below === undefined ? 0 : Math.max(0, firstLater.firstAggId - below - 1));
        missingFix = hole(newLastId) - hole(oldLastId);
      }
      const needsLater = later.length > 0 && (shift !== '0' || missingFix !== 0);
      if (needsLater) {
        later = shiftBars(later, shift, newAtTo);
        const f = later[0] as BarRow;
        later[0] = { ...f, missingAggIds: Math.max(0, f.missingAggIds + missingFix) };
      }
      io.err(
        `  ${k}: ${trades.length} trades → ${bars.length} bars (old: ${old.length}); anchor ${anchor}; CVD at --to ${oldAtTo} → ${newAtTo} (shift ${shift}); ` +
          `${needsLater ? `${later.length} later bars rewritten` : 'later bars unchanged'}${dry ? ' [dry run]' : ''}`,
      );
      if (writer) {
        const writeAt = Date.now();
        await writer.write(bars, writeAt);
        if (needsLater) await writer.write(later, writeAt);
      }
    }
  } finally {
    await writer?.close();
  }
  io.out(`${dry ? 'dry run: nothing written' : `rebuilt ${table}`} for ${keys.length - failed}/${keys.length} symbol${keys.length === 1 ? '' : 's'} in [${new Date(fromMs).toISOString()}, ${new Date(toMs).toISOString()}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return failed ? 1 : 0;
}
