import type { IncomingMessage, ServerResponse } from 'node:http';
import { QuestDbError, type ExecResult, type Timeframe } from '@cvd/questdb';
import type { Logger } from '@cvd/common';
import { WebError } from './errors.js';
import type { WebMetrics } from './metrics.js';
import { parseBarsQuery } from './query.js';
import { BAR_API_COLUMNS, barsSql, symbolsSql } from './sql.js';

/** What the API needs from QuestDB: `QuestDbSql` fits. */
export interface SqlExecutor {
  exec(query: string): Promise<ExecResult>;
}

/** One bar as `/api/bars` returns it: the table's columns plus `time` (epoch seconds, for charts). */
export type ApiBar = { ts: string; time: number; final: boolean } & Record<(typeof BAR_API_COLUMNS)[number], number | string | null>;

export interface BarsResponse {
  market: string;
  symbol: string;
  tf: Timeframe;
  bars: ApiBar[];
}

export interface SymbolEntry {
  market: string;
  symbol: string;
  lastTs: string;
}

/** QuestDB's `2024-05-01T12:00:00.000000Z` (µs) → `2024-05-01T12:00:00.000Z`. */
export function isoMillis(ts: unknown): string {
  const ms = Date.parse(String(ts).replace(/\.(\d{3})\d*Z$/, '.$1Z'));
  if (Number.isNaN(ms)) throw new QuestDbError('bad-response', `QuestDB returned a timestamp that is not one: ${JSON.stringify(ts)}`);
  return new Date(ms).toISOString();
}

function rowsOf(r: ExecResult): Record<string, unknown>[] {
  return r.dataset.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(JSON.stringify(body));
}

/** The JSON API. Every handler answers; errors become 400 (bad request) or 502/503 (QuestDB). */
export class Api {
  constructor(
    private readonly deps: { sql: SqlExecutor; baseTable: string; logger: Logger; metrics: WebMetrics },
  ) {}

  private async query(name: string, sql: string): Promise<Record<string, unknown>[]> {
    const end = this.deps.metrics.queryDuration.startTimer({ query: name });
    try {
      return rowsOf(await this.deps.sql.exec(sql));
    } finally {
      end();
    }
  }

  async symbols(): Promise<SymbolEntry[]> {
    const rows = await this.query('symbols', symbolsSql(this.deps.baseTable));
    return rows.map((r) => ({ market: String(r.market), symbol: String(r.symbol), lastTs: isoMillis(r.ts) }));
  }

  async bars(params: URLSearchParams): Promise<BarsResponse> {
    const q = parseBarsQuery(params);
    const rows = await this.query('bars', barsSql(q, this.deps.baseTable));
    const bars = rows.map((r) => {
      const ts = isoMillis(r.ts);
      const bar: Record<string, unknown> = { ts, time: Date.parse(ts) / 1000 };
      for (const c of BAR_API_COLUMNS) bar[c] = r[c] ?? null;
      bar.final = r.final === true;
      return bar as ApiBar;
    });
    return { market: q.market, symbol: q.symbol, tf: q.tf, bars };
  }

  /** Wraps a handler: JSON out, status counted, errors mapped. */
  handler(route: string, fn: (params: URLSearchParams) => Promise<unknown>) {
    return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      let status = 200;
      try {
        const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
        sendJson(res, 200, await fn(params));
      } catch (err) {
        if (err instanceof WebError) {
          status = 400;
          sendJson(res, 400, { error: err.message });
        } else if (err instanceof QuestDbError) {
          status = err.retriable ? 503 : 502;
          this.deps.logger.warn({ err, route }, 'QuestDB query failed');
          sendJson(res, status, { error: `QuestDB query failed: ${err.message}` });
        } else {
          throw err; // the ops server logs it and answers 500
        }
      } finally {
        this.deps.metrics.requests.inc({ route, status: String(status) });
      }
    };
  }
}
