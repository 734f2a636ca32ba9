/**
 * The provisioned Grafana dashboard: its SQL queries, and Grafana's macro/variable
 * substitution with concrete values (what the PostgreSQL data source sends to QuestDB).
 */
import { readRepoFile } from './repo.js';

export const DASHBOARD_PATH = 'infra/docker/grafana/dashboards/cvd.json';

export interface Dashboard {
  templating?: { list?: { name: string; type: string; query?: unknown; datasource?: { uid?: string } }[] };
  panels?: {
    id: number;
    title: string;
    type: string;
    datasource?: { uid?: string };
    fieldConfig?: { defaults?: { custom?: { drawStyle?: string } } };
    targets?: { refId: string; rawSql?: string; format?: string; datasource?: { uid?: string } }[];
  }[];
}

export interface DashboardQuery {
  /** `panel "<title>" target A` or `variable symbol`. */
  where: string;
  sql: string;
  format: string | undefined;
  datasourceUid: string | undefined;
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readRepoFile(DASHBOARD_PATH)) as Dashboard;
}

/** Every SQL statement the dashboard sends: panel targets and query variables. */
export function extractQueries(dash: Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const panel of dash.panels ?? []) {
    for (const t of panel.targets ?? []) {
      if (typeof t.rawSql !== 'string') throw new Error(`panel "${panel.title}" target ${t.refId} has no rawSql`);
      out.push({ where: `panel "${panel.title}" target ${t.refId}`, sql: t.rawSql, format: t.format, datasourceUid: t.datasource?.uid ?? panel.datasource?.uid });
    }
  }
  for (const v of dash.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const sql = typeof v.query === 'string' ? v.query : (v.query as { rawSql?: string; query?: string } | undefined)?.rawSql ?? (v.query as { query?: string } | undefined)?.query;
    if (typeof sql !== 'string') throw new Error(`variable ${v.name} has no SQL query`);
    out.push({ where: `variable ${v.name}`, sql, format: 'table', datasourceUid: v.datasource?.uid });
  }
  return out;
}

export interface GrafanaContext {
  from: Date;
  to: Date;
  intervalMs: number;
  /** Variable values; several values for a multi-value variable. */
  vars: Record<string, string | string[]>;
  /** Replaces the bar table name (`cvd_bars_1m`) in the SQL. */
  table?: string;
}

/** Go's time.RFC3339Nano in UTC, as Grafana's SQL macros format times: trailing fraction zeros dropped. */
const iso = (d: Date): string => d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));

function formatInterval(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function formatVar(value: string | string[], format: string | undefined): string {
  const values = Array.isArray(value) ? value : [value];
  switch (format) {
    case undefined:
    case 'csv':
      return values.join(',');
    case 'singlequote':
      return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    case 'doublequote':
      return values.map((v) => `"${v.replace(/"/g, '\\"')}"`).join(',');
    case 'raw':
      return values.join(',');
    default:
      throw new Error(`variable format :${format} is not handled by this test`);
  }
}

/**
 * What Grafana's PostgreSQL data source does to a query before sending it: time macros
 * (`$__timeFilter(col)`, `$__timeFrom()`, `$__timeTo()`), interval variables
 * (`$__interval`, `$__interval_ms`) and dashboard variables (`$name`, `${name}`,
 * `${name:format}`). Throws on anything left unsubstituted.
 */
export function substituteGrafana(sql: string, ctx: GrafanaContext): string {
  let out = sql
    .replace(/\$__timeFilter\(\s*([^)]+?)\s*\)/g, (_m, col: string) => `${col} BETWEEN '${iso(ctx.from)}' AND '${iso(ctx.to)}'`)
    .replace(/\$__timeFrom\(\)/g, `'${iso(ctx.from)}'`)
    .replace(/\$__timeTo\(\)/g, `'${iso(ctx.to)}'`)
    .replace(/\$\{__interval_ms\}|\$__interval_ms\b/g, String(ctx.intervalMs))
    .replace(/\$\{__interval\}|\$__interval\b/g, formatInterval(ctx.intervalMs))
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare) as string;
      const value = ctx.vars[name];
      if (value === undefined) throw new Error(`no value for Grafana variable ${m}`);
      return formatVar(value, format);
    });
  if (ctx.table) out = out.replace(/\bcvd_bars_1m\b/g, ctx.table);
  if (out.includes('$')) throw new Error(`unsubstituted Grafana syntax left in:\n${out}`);
  return out;
}
