/** Result of QuestDB's `/exec` REST endpoint. */
export interface ExecResult {
  columns: { name: string; type: string }[];
  dataset: unknown[][];
  count: number;
}

/** Runs one SQL statement through `/exec`; throws with QuestDB's error text on failure. */
export async function questdbExec(httpUrl: string, sql: string): Promise<ExecResult> {
  const res = await fetch(`${httpUrl}/exec?query=${encodeURIComponent(sql)}`);
  const body = (await res.json()) as Partial<ExecResult> & { error?: string };
  if (!res.ok || body.error) throw new Error(`QuestDB /exec failed (${res.status}): ${body.error ?? JSON.stringify(body)}\n  sql: ${sql}`);
  return { columns: body.columns ?? [], dataset: body.dataset ?? [], count: body.count ?? 0 };
}

/** Rows as objects keyed by column name. */
export async function questdbRows(httpUrl: string, sql: string): Promise<Record<string, unknown>[]> {
  const r = await questdbExec(httpUrl, sql);
  return r.dataset.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
}

/** Polls `check` until it returns true or `timeoutMs` passes (WAL tables apply asynchronously). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}
