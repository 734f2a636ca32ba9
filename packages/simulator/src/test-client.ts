/** Test helper: a plain `ws` client that records every message (not part of the API). */
import { WebSocket, type ClientOptions } from 'ws';

export interface Received {
  text: string;
  binary: boolean;
  json: unknown;
  at: number;
}

export class TestClient {
  readonly messages: Received[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  isClosed = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, binary) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
      let json: unknown;
      try {
        json = binary ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.messages.push({ text, binary, json, at: Date.now() });
      this.notify();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.isClosed = true;
        resolve({ code, reason: reason.toString() });
        this.notify();
      });
    });
    ws.on('error', () => undefined);
  }

  static open(url: string, opts: ClientOptions = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts);
      const c = new TestClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Data events (aggTrade payloads, unwrapped from combined frames). */
  get trades(): Record<string, unknown>[] {
    return this.messages
      .map((m) => m.json as Record<string, unknown> | undefined)
      .filter((j): j is Record<string, unknown> => j !== undefined && j !== null && typeof j === 'object')
      .map((j) => (typeof j['stream'] === 'string' ? (j['data'] as Record<string, unknown>) : j))
      .filter((j) => j['e'] === 'aggTrade');
  }

  /** Waits until `pred()` holds, or rejects after `timeoutMs`. */
  async until(pred: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Next reply `{result|error, id}` with this id. */
  async reply(id: unknown, timeoutMs = 2000): Promise<Record<string, unknown>> {
    const find = (): Record<string, unknown> | undefined =>
      this.messages
        .map((m) => m.json as Record<string, unknown> | undefined)
        .find((j) => j !== undefined && j !== null && typeof j === 'object' && 'id' in j && j['id'] === id);
    await this.until(() => find() !== undefined, timeoutMs, `reply ${String(id)}`);
    return find() as Record<string, unknown>;
  }

  send(obj: unknown): void {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  close(): void {
    if (!this.isClosed) this.ws.terminate();
  }
}

export async function getJson(url: string): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as unknown };
}

export function fixture(name: string, from: string): URL {
  return new URL(`../fixtures/${name}`, from.includes('/dist/sources/') ? new URL('..', from) : from);
}
