import { symbolKey } from '@cvd/core';
import { SseParser } from '@cvd/bench';
import { age, CliFailure, fmtNum, formatTable, parseCommandArgs, parseMarketSymbol, parsePositiveInt, str, type Io } from './data-args.js';
import { webUrlFromEnv } from './data-env.js';

export const TAIL_HELP = `Usage: cvd tail [MARKET:SYMBOL…] [--top N] [--interval S] [--once] [--web-url URL] [--reconnects N]

Live CVD in the terminal: follows the web service's bar stream (GET /api/stream, server-sent
events; the newest bar per symbol from /api/bars at start and after every resync) and redraws
a table — symbol, last price, CVD, the minute's delta, whether the bar is final, its minute
and age — at most every --interval, until Ctrl-C. Without symbols: the most active symbols
(most trades in the stream over the last 15 minutes of bar time, re-ranked every 30 s; at
start the symbols with the newest bars).

  --top N          how many symbols without a list (default 20)
  --interval S     seconds between redraws (default 1)
  --once           print one table (from /api/bars) and exit
  --web-url URL    the web service (default: WEB_URL, else http://127.0.0.1:8080)
  --reconnects N   reconnect attempts after the stream is lost before giving up (default 10)

Environment: WEB_URL (http://127.0.0.1:8080)
`;

/** What the table shows of a bar (the `/api/bars` row / `event: bar` fields it needs). */
export interface TailBar {
  market: string;
  symbol: string;
  /** Minute open, epoch seconds. */
  time: number;
  close: number | null;
  cvd_close: number | null;
  delta: number | null;
  final: boolean;
  trades: number | null;
}

const RANK_WINDOW_S = 15 * 60;

/**
 * The state behind the table (pure): the newest bar per symbol, and the trades per symbol and
 * minute of the last 15 minutes of bar time (event time, never the local clock) for ranking.
 */
export class TailBook {
  private readonly latest = new Map<string, TailBar>();
  private readonly activity = new Map<string, Map<number, number>>();
  private newestTime = 0;
  private shown: { market: string; symbol: string }[];

  constructor(
    private readonly fixed: readonly { market: string; symbol: string }[],
    private readonly top: number,
    initial: readonly { market: string; symbol: string }[] = fixed,
  ) {
    this.shown = [...initial];
  }

  /** The symbols shown, in order. */
  keys(): { market: string; symbol: string }[] {
    return this.shown;
  }

  /** A bar from the stream or a snapshot; true if a shown row changed. */
  apply(b: TailBar): boolean {
    const key = symbolKey(b.market as never, b.symbol);
    if (!this.fixed.length) {
      if (b.time > this.newestTime) this.newestTime = b.time;
      let m = this.activity.get(key);
      if (!m) this.activity.set(key, (m = new Map()));
      m.set(b.time, b.trades ?? 0);
    }
    const old = this.latest.get(key);
    if (old && old.time > b.time) return false; // a revision of an older minute
    this.latest.set(key, b);
    return this.shown.some((k) => k.market === b.market && k.symbol === b.symbol);
  }

  /** Re-ranks by trades in the window (no list given); symbols without activity keep their place behind. */
  rank(): void {
    if (this.fixed.length) return;
    const from = this.newestTime - RANK_WINDOW_S;
    const score = new Map<string, number>();
    for (const [key, minutes] of this.activity) {
      let n = 0;
      for (const [t, trades] of minutes) {
        if (t < from) minutes.delete(t);
        else n += trades;
      }
      if (minutes.size === 0) this.activity.delete(key);
      else score.set(key, n);
    }
    const prev = new Map(this.shown.map((k, i) => [symbolKey(k.market as never, k.symbol), i]));
    const candidates = new Map<string, { market: string; symbol: string }>();
    for (const k of this.shown) candidates.set(symbolKey(k.market as never, k.symbol), k);
    for (const key of score.keys()) if (!candidates.has(key)) candidates.set(key, this.latest.get(key)!);
    this.shown = [...candidates.entries()]
      .sort(([a], [b]) => (score.get(b) ?? -1) - (score.get(a) ?? -1) || (prev.get(a) ?? Infinity) - (prev.get(b) ?? Infinity))
      .slice(0, this.top)
      .map(([, k]) => ({ market: k.market, symbol: k.symbol }));
  }

  /** The table; `nowMs` only for the age column. */
  table(nowMs: number): string {
    const body = this.shown.map((k) => {
      const b = this.latest.get(symbolKey(k.market as never, k.symbol));
      if (!b) return [`${k.market}:${k.symbol}`, '', '', '', '', '', 'no bars'];
      const ts = b.time * 1000;
      return [`${b.market}:${b.symbol}`, fmtNum(b.close), fmtNum(b.cvd_close), fmtNum(b.delta), b.final ? 'yes' : 'no', new Date(ts).toISOString().slice(11, 16), age(nowMs - ts - 60_000)];
    });
    return formatTable(['symbol', 'price', 'cvd', 'delta_1m', 'final', 'minute', 'age'], body);
  }
}

async function getJson<T>(url: string, web: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new CliFailure('unreachable', `the web service at ${web} is unreachable (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}); start it (cvd run) or set WEB_URL / --web-url`, { cause: err });
  }
  const body = (await res.json().catch(() => undefined)) as (T & { error?: string }) | undefined;
  if (!res.ok || body === undefined) throw new CliFailure('failed', `GET ${url}: HTTP ${res.status}${body?.error ? ` — ${body.error}` : ''}`);
  return body;
}

/** The newest 1m bar of each symbol from the web API (a few requests at a time). */
async function snapshot(web: string, keys: readonly { market: string; symbol: string }[], book: TailBook): Promise<void> {
  const queue = [...keys];
  const worker = async (): Promise<void> => {
    for (let k = queue.shift(); k; k = queue.shift()) {
      const p = new URLSearchParams({ market: k.market, symbol: k.symbol, tf: '1m', limit: '1' });
      const { bars } = await getJson<{ bars: TailBar[] }>(`${web}/api/bars?${p}`, web);
      for (const b of bars) book.apply({ ...b, market: k.market, symbol: k.symbol });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
}

type StreamEnd = { kind: 'stopped' } | { kind: 'lost'; why: string; connected: boolean };

/** Reads one connection of the stream until it ends, the signal aborts, or it fails. */
async function followOnce(url: string, stop: AbortSignal, on: { open: () => Promise<void>; bar: (b: TailBar) => void; resync: () => void }): Promise<StreamEnd> {
  const abort = new AbortController();
  const onStop = (): void => abort.abort();
  stop.addEventListener('abort', onStop, { once: true });
  let connected = false;
  try {
    const res = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
    if (!res.ok || !res.body) {
      const body = (await res.text().catch(() => '')).slice(0, 200);
      return { kind: 'lost', why: `HTTP ${res.status} ${body}`.trim(), connected };
    }
    connected = true;
    await on.open();
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return stop.aborted ? { kind: 'stopped' } : { kind: 'lost', why: 'the web service ended the stream', connected };
      for (const e of parser.push(decoder.decode(value, { stream: true }))) {
        if (e.event === 'bar') on.bar(JSON.parse(e.data) as TailBar);
        else if (e.event === 'resync') on.resync();
      }
    }
  } catch (err) {
    if (stop.aborted) return { kind: 'stopped' };
    if (err instanceof CliFailure) throw err;
    const e = err as Error;
    return { kind: 'lost', why: e.cause instanceof Error ? e.cause.message : e.message, connected };
  } finally {
    stop.removeEventListener('abort', onStop);
    abort.abort();
  }
}

export async function tailCommand(argv: string[], io: Io, envSource: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { top: { type: 'string' }, interval: { type: 'string' }, once: { type: 'boolean' }, 'web-url': { type: 'string' }, reconnects: { type: 'string' } },
    TAIL_HELP,
  );
  if (values.help) {
    io.out(TAIL_HELP);
    return 0;
  }
  const fixed = positionals.map((p) => parseMarketSymbol(p));
  const top = parsePositiveInt('top', str(values.top), 20, 500);
  const intervalMs = parsePositiveInt('interval', str(values.interval), 1, 3600) * 1000;
  const maxReconnects = parsePositiveInt('reconnects', str(values.reconnects), 10, 1000);
  const web = webUrlFromEnv(envSource, str(values['web-url']));

  // Reachability first, with the fix in the message; and the symbols with the newest bars.
  const symbols = await getJson<{ market: string; symbol: string; lastTs: string }[]>(`${web}/api/symbols`, web);
  const initial = fixed.length ? fixed : [...symbols].sort((a, b) => Date.parse(b.lastTs) - Date.parse(a.lastTs)).slice(0, top);
  const book = new TailBook(fixed, top, initial);
  await snapshot(web, book.keys(), book);
  const tty = process.stdout.isTTY === true && !values.once;
  const draw = (): void => {
    const now = Date.now();
    const head = `cvd tail — ${web} — ${new Date(now).toISOString().slice(0, 19)}Z${fixed.length ? '' : ` — top ${top} by trades (15 min)`}${tty ? ' — Ctrl-C to stop' : ''}`;
    const text = book.table(now);
    io.out(tty ? `\x1b[H\x1b[2J${head}\n${text}` : `${head}\n${text}`);
  };
  if (values.once) {
    draw();
    return 0;
  }

  const stop = new AbortController();
  const onSig = (): void => stop.abort();
  process.once('SIGINT', onSig);
  if (signal?.aborted) stop.abort();
  signal?.addEventListener('abort', onSig);
  const streamUrl = fixed.length ? `${web}/api/stream?${new URLSearchParams({ symbols: fixed.map((k) => `${k.market}:${k.symbol}`).join(',') })}` : `${web}/api/stream`;
  let dirty = true;
  let rankedAt = Date.now();
  const redraw = setInterval(() => {
    if (Date.now() - rankedAt >= 30_000) {
      rankedAt = Date.now();
      book.rank();
      dirty = true;
    }
    if (dirty || tty) draw();
    dirty = false;
  }, intervalMs);
  let first = true;
  const refetch = (): void => {
    snapshot(web, book.keys(), book).then(
      () => (dirty = true),
      (err: Error) => io.err(`cvd tail: refetching after a resync failed: ${err.message}`),
    );
  };
  try {
    draw();
    dirty = false;
    let attempts = 0;
    for (;;) {
      const end = await followOnce(streamUrl, stop.signal, {
        open: async () => {
          attempts = 0;
          // After a reconnect bars may have been missed: the newest bars again.
          if (!first) await snapshot(web, book.keys(), book).then(() => (dirty = true));
          first = false;
        },
        bar: (b) => {
          if (book.apply(b)) dirty = true;
        },
        resync: refetch,
      });
      if (end.kind === 'stopped') return 0;
      attempts++;
      if (attempts > maxReconnects) {
        throw new CliFailure('unreachable', `lost the web service's stream at ${streamUrl} (${end.why}); gave up after ${maxReconnects} reconnect attempts`);
      }
      const delay = Math.min(10_000, 500 * 2 ** (attempts - 1));
      io.err(`cvd tail: stream lost (${end.why}); reconnecting in ${delay} ms (attempt ${attempts}/${maxReconnects})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        stop.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      if (stop.signal.aborted) return 0;
    }
  } finally {
    clearInterval(redraw);
    process.off('SIGINT', onSig);
    signal?.removeEventListener('abort', onSig);
  }
}
