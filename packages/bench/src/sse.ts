/**
 * A minimal server-sent-events client for the bench: reads `GET /api/stream` of the web service
 * and hands every `event: bar` to a callback with the wall clock it arrived at. The parser is
 * pure (tested in sse.test.ts); the reader is fetch's body stream.
 */

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Incremental SSE parser (the WHATWG rules the bench needs): lines end in LF or CRLF, an empty
 * line ends an event, `event:` and `data:` fields (several `data:` lines are joined with LF),
 * comment lines (`:`) ignored, one optional space after the colon stripped.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];

  /** Feeds a chunk; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      let line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (this.data.length) out.push({ event: this.event || 'message', data: this.data.join('\n') });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
    }
    return out;
  }
}

export interface SseSubscription {
  /** Resolves once the response headers arrived (the server registered the client). */
  readonly ready: Promise<void>;
  /** Events received so far. */
  readonly count: () => number;
  close(): void;
}

/** Subscribes to `url`; `onEvent(e, atMs)` runs for every event as it arrives. */
export function subscribeSse(url: string, onEvent: (e: SseEvent, atMs: number) => void): SseSubscription {
  const abort = new AbortController();
  let n = 0;
  const ready = (async () => {
    const res = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
    if (!res.ok || !res.body) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          const at = Date.now();
          for (const e of parser.push(decoder.decode(value, { stream: true }))) {
            n++;
            onEvent(e, at);
          }
        }
      } catch {
        // aborted by close(), or the server went away: the caller sees the count stop growing
      }
    })();
  })();
  return { ready, count: () => n, close: () => abort.abort() };
}
