/**
 * Test support (compiled, not a test file): realistic 1m bars for one symbol, a bar table
 * with its views in the test QuestDB, a bars topic, publishing Bar v1 records, an SSE reader.
 */
import { seededRandom } from '@cvd/common';
import { symbolKey } from '@cvd/core';
import { BARS_RETENTION_MS, ensureTopics, type Kafka, type Producer } from '@cvd/kafka';
import { barTableDdl, BarWriter, ensureViews, QuestDbSql, viewsRefreshed } from '@cvd/questdb';
import { encodeBar, type BarRecord } from '@cvd/schemas';
import { eventually, uniqueTable, uniqueTopic } from '@cvd/test-kit';

/** The row type BarWriter takes (the engine's BarRow), without depending on @cvd/engine here. */
export type BarRow = Parameters<BarWriter['write']>[0][number];

export const MINUTE = 60_000;

/**
 * `minutes` consecutive 1m bars from `startMs`: a price random walk and a continuous CVD
 * (`cvd_open(n) = cvd_close(n−1)`), every bar final unless `formingLast`.
 */
export function walkBars(opts: { market: BarRow['market']; symbol: string; startMs: number; minutes: number; seed: number; price?: number; formingLast?: boolean }): BarRow[] {
  const rnd = seededRandom(opts.seed);
  let price = opts.price ?? 100;
  let cvd = 0;
  let aggId = 10_000;
  const out: BarRow[] = [];
  const f = (x: number, d = 2): string => x.toFixed(d);
  for (let m = 0; m < opts.minutes; m++) {
    const open = price;
    price = Math.max(0.01, price * (1 + (rnd() - 0.48) * 0.004));
    const high = Math.max(open, price) * (1 + rnd() * 0.001);
    const low = Math.min(open, price) * (1 - rnd() * 0.001);
    const buy = rnd() * 20;
    const sell = rnd() * 20;
    const cvdOpen = cvd;
    cvd += buy - sell;
    const n = 5 + Math.floor(rnd() * 50);
    out.push({
      ts: opts.startMs + m * MINUTE, market: opts.market, symbol: opts.symbol,
      open: f(open), high: f(high), low: f(low), close: f(price),
      volume: f(buy + sell, 4), buyVolume: f(buy, 4), sellVolume: f(sell, 4),
      quoteVolume: f((buy + sell) * price), buyQuoteVolume: f(buy * price), sellQuoteVolume: f(sell * price),
      delta: f(cvd - cvdOpen, 4), quoteDelta: f((buy - sell) * price),
      cvdOpen: f(cvdOpen, 4), cvdHigh: f(Math.max(cvdOpen, cvd) + rnd() * 5, 4), cvdLow: f(Math.min(cvdOpen, cvd) - rnd() * 5, 4), cvdClose: f(cvd, 4),
      trades: n * 2, aggTrades: n, firstAggId: aggId, lastAggId: aggId + n - 1,
      missingAggIds: 0, recovered: 0, final: !(opts.formingLast && m === opts.minutes - 1),
    });
    aggId += n;
  }
  return out;
}

/** A fresh bar table with its views in the test QuestDB. */
export async function createBarTable(httpUrl: string, prefix = 'web'): Promise<{ table: string; sql: QuestDbSql }> {
  const table = uniqueTable(prefix);
  const sql = new QuestDbSql({ httpUrl });
  await sql.exec(barTableDdl(table));
  await ensureViews(sql, table);
  return { table, sql };
}

/** Writes bars and waits until the table and every view show them. */
export async function writeBars(httpUrl: string, table: string, rows: readonly BarRow[]): Promise<void> {
  const writer = new BarWriter({ httpUrl }, { table });
  try {
    await writer.write(rows, Date.now());
  } finally {
    await writer.close();
  }
  const sql = new QuestDbSql({ httpUrl });
  await eventually(() => viewsRefreshed(sql, table), 30_000, 100);
}

// ---- the bar stream ----------------------------------------------------------------------

/** A `Bar` v1 record of a bar row (the two latency stamps set to `atMs`). */
export function barRecord(row: BarRow, atMs = Date.now()): BarRecord {
  return { ...row, receivedAtMs: atMs, emittedAtMs: atMs };
}

/** A fresh bars topic (`cvd.bars.v1` settings) with `partitions` partitions. */
export async function createBarsTopic(kafka: Kafka, partitions = 3): Promise<string> {
  const topic = uniqueTopic('t.webbars');
  await ensureTopics(kafka, [{ topic, partitions, configs: { 'cleanup.policy': 'delete', 'retention.ms': String(BARS_RETENTION_MS) } }]);
  return topic;
}

/** Publishes bar records as the aggregator does (key `market:SYMBOL`, Avro Bar v1), all in one send. */
export async function publishBars(producer: Producer, topic: string, rows: readonly BarRow[]): Promise<void> {
  await producer.send({ topic, acks: 1, messages: rows.map((r) => ({ key: symbolKey(r.market, r.symbol), value: encodeBar(barRecord(r)) })) });
}

export interface SseEvent {
  event: string;
  data: string;
  /** Wall clock when the chunk holding it arrived. */
  atMs: number;
}

/**
 * A server-sent-events reader over fetch for tests: collects every event (and comment lines
 * as `event: ':'`), exposes the response and `waitFor` with a bounded wait.
 */
export class SseTestClient {
  readonly events: SseEvent[] = [];
  readonly response: Promise<Response>;
  /** Resolves when the stream is over: `done` when the server ended it cleanly, `error` when it was cut or aborted. */
  readonly ended: Promise<'done' | 'error'>;
  private readonly abort = new AbortController();
  private waiters: (() => void)[] = [];

  constructor(url: string) {
    this.response = fetch(url, { signal: this.abort.signal, headers: { accept: 'text/event-stream' } });
    this.ended = this.read().then(
      () => 'done' as const,
      () => 'error' as const,
    );
  }

  private async read(): Promise<void> {
    const res = await this.response;
    if (!res.body) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let event = '';
    let data: string[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const at = Date.now();
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line === '') {
          if (data.length) this.events.push({ event: event || 'message', data: data.join('\n'), atMs: at });
          event = '';
          data = [];
        } else if (line.startsWith(':')) this.events.push({ event: ':', data: line.slice(1).trim(), atMs: at });
        else {
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'event') event = v;
          else if (field === 'data') data.push(v);
        }
      }
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** The decoded `event: bar` payloads so far. */
  bars(): Record<string, unknown>[] {
    return this.events.filter((e) => e.event === 'bar').map((e) => JSON.parse(e.data) as Record<string, unknown>);
  }

  /** Waits until `check()` holds (re-checked on every chunk), at most `timeoutMs`. */
  async waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`SSE: timed out after ${timeoutMs} ms waiting for ${what}; got ${this.events.length} events: ${this.events.slice(-5).map((e) => `${e.event} ${e.data.slice(0, 120)}`).join(' | ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  close(): void {
    this.abort.abort();
  }
}
