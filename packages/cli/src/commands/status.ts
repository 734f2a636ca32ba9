import { QuestDbSql } from '@cvd/questdb';
import { CliUsageError } from '../env.js';
import { latestBarsSql } from './bars-sql.js';
import { age, fmtNum, formatTable, parseCommandArgs, parsePositiveInt, str, tsMs, type Io } from './data-args.js';
import { anyBrokerReachable, cliKafka, cliLogger, DATA_ENV_HELP, parseDataEnv } from './data-env.js';

export const STATUS_HELP = `Usage: cvd status [--top N] [--json]

One look at the pipeline: Kafka and QuestDB up?; the config, ingest and aggregator services'
/health (ops ports 9465, 9464, 9466); the aggregator group's consumer lag on the trades topic;
ingest connections and gaps (from its /metrics); trades the aggregator refused as too old per
symbol (a replay into a used stack: run \`cvd stack reset\`); the newest bar of the N most recently updated
symbols. Exit status 1 when Kafka or QuestDB is down (a service not running is reported only).

  --top N   symbols in the last-bar table (default 10)
  --json    machine-readable output

Environment (besides the below): CONFIG_OPS_URL, INGEST_OPS_URL, AGGREGATOR_OPS_URL
(default http://127.0.0.1:9465 / 9464 / 9466), AGGREGATOR_GROUP_ID (cvd-aggregator).
${DATA_ENV_HELP}
`;

/** Sums of Prometheus samples by metric name (labels ignored). */
export function sumMetrics(text: string, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] !== undefined && m[1] in out) out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  }
  return out;
}

/** `cvd_aggregator_too_old_trades_total` by `market:symbol` and reason (only symbols that had one). */
export function tooOldFromMetrics(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const m of text.matchAll(/^cvd_aggregator_too_old_trades_total\{([^}]*)\}\s+(\S+)/gm)) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    const k = `${labels.market ?? '?'}:${labels.symbol ?? '?'}`;
    const byReason = (out[k] ??= {});
    byReason[labels.reason ?? '?'] = (byReason[labels.reason ?? '?'] ?? 0) + Number(m[2]);
  }
  return out;
}

/** One line about the too-old trades, with the fix when there are any. */
export function tooOldLine(tooOld: Record<string, Record<string, number>>): string {
  const entries = Object.entries(tooOld).map(([k, r]) => [k, Object.values(r).reduce((a, b) => a + b, 0), Object.keys(r).join('/')] as const);
  if (entries.length === 0) return 'aggregator: no trades refused as too old';
  const total = entries.reduce((a, [, n]) => a + n, 0);
  const top = [...entries].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, n, r]) => `${k} ${n} ${r}`).join(', ');
  return `aggregator: ${total} trades refused as too old and dead-lettered (${top}${entries.length > 5 ? `, … ${entries.length} symbols` : ''}); replaying history into a used stack? run \`cvd stack reset\``;
}

async function probe(url: string): Promise<{ up: boolean; detail: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    const body = (await res.json().catch(() => ({}))) as { healthy?: boolean };
    return { up: res.ok, detail: res.ok ? 'healthy' : `unhealthy (${res.status}${body.healthy === false ? '' : ''})` };
  } catch (err) {
    return { up: false, detail: `not reachable (${(err as Error).message})` };
  }
}

export async function statusCommand(argv: string[], io: Io, envSource: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { top: { type: 'string' }, json: { type: 'boolean' }, table: { type: 'string' } }, STATUS_HELP);
  if (values.help) {
    io.out(STATUS_HELP);
    return 0;
  }
  if (positionals.length) throw new CliUsageError(`status takes no arguments\n\n${STATUS_HELP}`);
  const top = parsePositiveInt('top', str(values.top), 10, 1000);
  const env = parseDataEnv(envSource);
  const table = str(values.table) ?? env.barTable;
  const report: Record<string, unknown> = {};
  const components: [string, boolean, string][] = [];

  // Kafka and the aggregator's lag.
  const kafka = cliKafka(env, 'cvd-cli-status', cliLogger('silent'));
  const admin = kafka.admin();
  let kafkaUp = false;
  try {
    if (!(await anyBrokerReachable(env.brokers))) throw new Error('connection refused or timed out');
    await admin.connect();
    const cluster = await admin.describeCluster();
    kafkaUp = true;
    components.push(['kafka', true, `${cluster.brokers.length} broker(s) at ${env.brokers.join(',')}`]);
    try {
      if (!(await admin.listTopics()).includes(env.topics.trades)) throw new Error(`topic ${env.topics.trades} does not exist yet`);
      const topicOffsets = await admin.fetchTopicOffsets(env.topics.trades);
      const committed = await admin.fetchOffsets({ groupId: env.groupId, topics: [env.topics.trades] });
      const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      let lag = 0n;
      let records = 0n;
      for (const o of topicOffsets) {
        const c = byPartition.get(o.partition) ?? -1n;
        const start = c < 0n ? BigInt(o.low) : c;
        lag += BigInt(o.high) - start;
        records += BigInt(o.high) - BigInt(o.low);
      }
      report.lag = { group: env.groupId, topic: env.topics.trades, partitions: topicOffsets.length, lag: Number(lag), records: Number(records) };
    } catch (err) {
      report.lag = { error: (err as Error).message };
    }
  } catch (err) {
    components.push(['kafka', false, `not reachable at ${env.brokers.join(',')} (${(err as Error).message})`]);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }

  // QuestDB and the last bars.
  const sql = new QuestDbSql({ ...env.questdb, requestTimeoutMs: 3_000 });
  let questdbUp = false;
  try {
    await sql.exec('SELECT 1');
    questdbUp = true;
    components.push(['questdb', true, env.questdb.httpUrl]);
    try {
      report.lastBars = await sql.rows(latestBarsSql(table, undefined, top));
    } catch (err) {
      report.lastBars = { error: (err as Error).message };
    }
  } catch (err) {
    components.push(['questdb', false, `not reachable at ${env.questdb.httpUrl} (${(err as Error).message})`]);
  }

  // Services.
  for (const [name, base] of Object.entries(env.ops)) {
    const p = await probe(`${base}/health`);
    components.push([name, p.up, `${base} ${p.detail}`]);
  }
  try {
    const res = await fetch(`${env.ops.ingest}/metrics`, { signal: AbortSignal.timeout(2_000) });
    if (res.ok) {
      const m = sumMetrics(await res.text(), ['cvd_ingest_connections_open', 'cvd_ingest_streams', 'cvd_ingest_gaps_total', 'cvd_ingest_gap_ids_total', 'cvd_ingest_open_hole_ids', 'cvd_ingest_unrecoverable_total', 'cvd_ingest_reconnects_total']);
      report.ingest = m;
    }
  } catch {
    /* ingest not running: reported above */
  }
  try {
    const res = await fetch(`${env.ops.aggregator}/metrics`, { signal: AbortSignal.timeout(2_000) });
    if (res.ok) report.tooOldTrades = tooOldFromMetrics(await res.text());
  } catch {
    /* aggregator not running: reported above */
  }
  report.components = components.map(([name, up, detail]) => ({ name, up, detail }));

  if (values.json) {
    io.out(JSON.stringify(report, null, 2));
  } else {
    io.out(formatTable(['component', 'state', 'detail'], components.map(([n, up, d]) => [n, up ? 'up' : 'DOWN', d])));
    const lag = report.lag as { lag?: number; records?: number; partitions?: number; error?: string } | undefined;
    if (lag) io.out(lag.error ? `\nconsumer lag: unavailable (${lag.error})` : `\nconsumer lag of ${env.groupId} on ${env.topics.trades}: ${lag.lag} records (${lag.partitions} partitions, ${lag.records} retained)`);
    const ing = report.ingest as Record<string, number> | undefined;
    if (ing) {
      io.out(`ingest: ${ing.cvd_ingest_connections_open} connections open for ${ing.cvd_ingest_streams} streams, ${ing.cvd_ingest_reconnects_total} reconnects; ` +
        `gaps ${ing.cvd_ingest_gaps_total} (${ing.cvd_ingest_gap_ids_total} ids), ${ing.cvd_ingest_open_hole_ids} ids still missing, ${ing.cvd_ingest_unrecoverable_total} unrecoverable`);
    } else io.out('ingest: metrics not reachable');
    const tooOld = report.tooOldTrades as Record<string, Record<string, number>> | undefined;
    io.out(tooOld ? tooOldLine(tooOld) : 'aggregator: metrics not reachable');
    const bars = report.lastBars;
    if (Array.isArray(bars)) {
      const now = Date.now();
      io.out(`\nlast bar per symbol (newest ${top}):`);
      io.out(formatTable(['symbol', 'minute (UTC)', 'age', 'close', 'cvd', 'final', 'missing'], (bars as Record<string, unknown>[]).map((r) => [
        `${String(r.market)}:${String(r.symbol)}`, new Date(tsMs(r.ts)).toISOString().slice(0, 16).replace('T', ' '), age(now - tsMs(r.ts)), fmtNum(r.close), fmtNum(r.cvd_close), r.final ? 'yes' : 'no', fmtNum(r.missing_agg_ids),
      ])));
    } else if (bars) io.out(`\nlast bars: unavailable (${(bars as { error: string }).error})`);
  }
  return kafkaUp && questdbUp ? 0 : 1;
}
