import { CvdError } from '@cvd/common';
import type { QuestDbSettings } from './settings.js';

export const QUESTDB_ERROR_CODES = ['unreachable', 'sql-error', 'write-failed', 'bad-response'] as const;
export type QuestDbErrorCode = (typeof QUESTDB_ERROR_CODES)[number];
export class QuestDbError extends CvdError<QuestDbErrorCode> {}

export interface ExecResult {
  columns: { name: string; type: string }[];
  dataset: unknown[][];
  count: number;
}

function authHeader(s: QuestDbSettings): Record<string, string> {
  if (s.username && s.password !== undefined) {
    return { authorization: `Basic ${Buffer.from(`${s.username}:${s.password}`).toString('base64')}` };
  }
  if (s.token) return { authorization: `Bearer ${s.token}` };
  return {};
}

/** A small client for QuestDB's REST `/exec` endpoint. */
export class QuestDbSql {
  constructor(private readonly settings: QuestDbSettings) {}

  async exec(sql: string): Promise<ExecResult> {
    let res: Response;
    try {
      res = await fetch(`${this.settings.httpUrl}/exec?query=${encodeURIComponent(sql)}`, {
        headers: authHeader(this.settings),
        signal: AbortSignal.timeout(this.settings.requestTimeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new QuestDbError('unreachable', `QuestDB at ${this.settings.httpUrl} is unreachable: ${(err as Error).message}`, { retriable: true, cause: err });
    }
    let body: Partial<ExecResult> & { error?: string };
    try {
      body = (await res.json()) as typeof body;
    } catch (err) {
      throw new QuestDbError('bad-response', `QuestDB answered ${res.status} with a body that is not JSON`, { retriable: res.status >= 500, cause: err });
    }
    if (!res.ok || body.error) {
      throw new QuestDbError('sql-error', `QuestDB rejected the query (${res.status}): ${body.error ?? 'unknown error'}`, { retriable: res.status >= 500 });
    }
    return { columns: body.columns ?? [], dataset: body.dataset ?? [], count: body.count ?? 0 };
  }

  /** Rows as objects keyed by column name. */
  async rows(sql: string): Promise<Record<string, unknown>[]> {
    const r = await this.exec(sql);
    return r.dataset.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
  }
}
