/**
 * The admin API as a hostile user tries it (issue 5): oversized bodies, missing and wrong
 * tokens, malformed JSON, wrong content types, path traversal, a slowloris and a burst. Each
 * gets a clear status; the handlers (the symbol set) are never reached; the server stays up;
 * no token ever reaches the log. Loopback only, every loop bounded.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger, createMetricsRegistry } from '@cvd/common';
import { startAdminServer, type AdminServer, type MarketSymbolInput } from './admin-api.js';
import { createConfigMetrics } from './metrics.js';

const TOKEN = 'admin-token-4f9c2e7a1b3d5f60';
const WRONG = 'admin-token-4f9c2e7a1b3d5f61';
const logText: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    logText.push(chunk.toString());
    done();
  },
});
const calls: { add: MarketSymbolInput[][]; remove: MarketSymbolInput[] } = { add: [], remove: [] };
let server: AdminServer;
let base: string;

before(async () => {
  server = await startAdminServer({
    port: 0,
    token: TOKEN,
    logger: createLogger({ service: 'config', level: 'debug', destination: sink }),
    metrics: createConfigMetrics(createMetricsRegistry('config')),
    headersTimeoutMs: 500,
    requestTimeoutMs: 1_000,
    handlers: {
      list: () => ({ symbols: [] }),
      add: async (items) => {
        calls.add.push([...items]);
        return { status: 200, body: { added: items.length } };
      },
      remove: async (item) => {
        calls.remove.push(item);
        return { status: 200, body: { removed: 1 } };
      },
    },
  });
  base = server.url;
});
after(async () => {
  await server.close();
});

async function req(method: string, path: string, init: { token?: string | null; type?: string | null; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<{ status: number; body: { error?: string; message?: string } }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TOKEN}`;
  if (init.type !== null && init.body !== undefined) headers['content-type'] = init.type ?? 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, ...(init.body === undefined ? {} : { body: init.body }) }).catch((err: unknown) => {
    throw new Error(`${method} ${path}: ${String((err as { cause?: unknown }).cause ?? err)}`);
  });
  const text = await res.text();
  let body: { error?: string; message?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = { message: text };
  }
  return { status: res.status, body };
}

/** Raw HTTP over a socket: what fetch refuses to send. Resolves with what came back and when the server closed. */
function raw(payload: string, options: { endAfterMs?: number } = {}): Promise<{ response: string; closedAfterMs: number }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(Number(url.port), url.hostname);
    let response = '';
    socket.on('data', (d) => (response += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ response, closedAfterMs: Date.now() - started }));
    socket.write(payload);
    const guard = setTimeout(() => socket.destroy(new Error('server never closed the connection')), options.endAfterMs ?? 8_000);
    socket.on('close', () => clearTimeout(guard));
  });
}

const good = JSON.stringify({ market: 'usdm', symbol: 'BTCUSDT' });

describe('admin API under abuse', () => {
  it('missing, wrong, malformed and oversized tokens: 401 (or 431), nothing changes', async () => {
    for (const token of [null, WRONG, '', 'x', TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), `${TOKEN} ${TOKEN}`, 'a'.repeat(4_000)]) {
      for (const [method, path] of [['POST', '/symbols'], ['DELETE', '/symbols/usdm/BTCUSDT'], ['GET', '/symbols']] as const) {
        const r = await req(method, path, { token, ...(method === 'POST' ? { body: good } : {}) });
        assert.equal(r.status, 401, `${method} ${path} with ${String(token).slice(0, 20)}`);
        assert.equal(r.body.error, 'unauthorized');
      }
    }
    for (const header of [`Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`, TOKEN, `Token ${TOKEN}`, `Bearer\t`, `Bearer ${TOKEN}\u0000`]) {
      const r = await raw(`POST /symbols HTTP/1.1\r\nHost: x\r\nAuthorization: ${header}\r\nContent-Type: application/json\r\nContent-Length: ${good.length}\r\nConnection: close\r\n\r\n${good}`);
      assert.match(r.response, /^HTTP\/1\.1 (401|400) /, header);
    }
    const huge = await req('GET', '/symbols', { token: 'a'.repeat(20_000) });
    assert.equal(huge.status, 431, 'a header above 16 KiB is refused by node before any handler');
    assert.deepEqual(calls, { add: [], remove: [] });
  });

  it('oversized bodies: 413, declared or streamed, and the connection is closed', async () => {
    const declared = await raw(`POST /symbols HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n[`);
    assert.match(declared.response, /^HTTP\/1\.1 413 /);
    assert.match(declared.response, /payload-too-large/);
    const streamed = await req('POST', '/symbols', { body: `[${Array(6_000).fill(good).join(',')}]` });
    assert.equal(streamed.status, 413);
    const chunked = await raw(
      `POST /symbols HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${'10000\r\n' + ' '.repeat(0x10000) + '\r\n'}${'10\r\n' + ' '.repeat(16) + '\r\n'}`,
    );
    assert.match(chunked.response, /^HTTP\/1\.1 413 /);
    assert.deepEqual(calls, { add: [], remove: [] });
  });

  it('malformed JSON, hostile shapes and wrong content types: 400 / 415 with a message', async () => {
    const bodies: [string, RegExp][] = [
      ['{', /not valid JSON/],
      ['', /not valid JSON/],
      ['\u0000', /not valid JSON/],
      ['NaN', /not valid JSON/],
      [`${'['.repeat(30_000)}${']'.repeat(30_000)}`, /expected an object/],
      ['{"__proto__":{"market":"usdm","symbol":"BTCUSDT"}}', /unknown field "__proto__"/],
      ['{"market":"usdm","symbol":"BTCUSDT","constructor":1}', /unknown field/],
      ['{"market":"usdm","symbol":"BTCUSDT\'; DROP TABLE cvd_bars_1m; --"}', /forbidden character|whitespace/],
      ['{"market":"usdm","symbol":"BTC\\u0000USDT"}', /control/],
      ['{"market":"usdm","symbol":"BTC\\nUSDT"}', /control|whitespace/],
      ['{"market":"usdm","symbol":"usdm:BTCUSDT"}', /forbidden character ":"/],
      [`{"market":"usdm","symbol":"${'A'.repeat(10_000)}"}`, /longer than 64 characters/],
      ['{"market":"usdm","symbol":1e309}', /expected a symbol string/],
      ['{"market":["usdm"],"symbol":"BTCUSDT"}', /unknown market/],
      ['[]', /the list is empty/],
    ];
    for (const [body, re] of bodies) {
      const r = await req('POST', '/symbols', { body });
      assert.equal(r.status, 400, body.slice(0, 60));
      assert.match(r.body.message ?? '', re, body.slice(0, 60));
      assert.ok((r.body.message ?? '').length < 400, 'messages stay short');
    }
    for (const type of [null, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/json-patch+json']) {
      const r = await req('POST', '/symbols', { type, body: good });
      assert.equal(r.status, 415, String(type));
    }
    assert.deepEqual(calls, { add: [], remove: [] });
  });

  it('path traversal and odd paths: 400 / 404 / 405, never a handler', async () => {
    const cases: [string, string, number][] = [
      ['DELETE', '/symbols/usdm/..%2F..%2Fetc%2Fpasswd', 400],
      ['DELETE', '/symbols/..%2Fspot/BTCUSDT', 400],
      ['DELETE', '/symbols/usdm/BTC%2FUSDT', 400],
      ['DELETE', '/symbols/usdm/%00', 400],
      ['DELETE', '/symbols/usdm/%E0%A4%A', 400],
      ['DELETE', '/symbols/usdm/BTCUSDT%3B--', 400],
      ['DELETE', '/symbols/usdm/btcusdt', 400],
      ['DELETE', '/symbols/usdm/BTCUSDT/extra', 404],
      ['DELETE', '/symbols/usdm', 404],
      ['GET', '/symbols/../../etc/passwd', 404],
      ['GET', '/etc/passwd', 404],
      ['GET', '/%2e%2e/%2e%2e/etc/passwd', 404],
      ['PUT', '/symbols', 405],
      ['DELETE', '/symbols', 405],
      ['POST', '/symbols/usdm/BTCUSDT', 405],
    ];
    for (const [method, path, status] of cases) {
      const r = await raw(`${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`);
      assert.match(r.response, new RegExp(`^HTTP/1\\.1 ${status} `), `${method} ${path}: ${r.response.split('\r\n')[0]}`);
    }
    const bad = await raw('GET http://[::1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(bad.response, /^HTTP\/1\.1 40\d /);
    assert.deepEqual(calls, { add: [], remove: [] });
  });

  it('a slowloris (headers or body dribbled) is cut off within the configured timeouts', async () => {
    const headers = await raw('POST /symbols HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ');
    assert.ok(headers.closedAfterMs < 6_000, `headers: closed after ${headers.closedAfterMs} ms`);
    const body = await raw(`POST /symbols HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{"market":`);
    assert.ok(body.closedAfterMs < 7_000, `body: closed after ${body.closedAfterMs} ms`);
    assert.match(body.response, /^(HTTP\/1\.1 408 |$)/);
    assert.deepEqual(calls, { add: [], remove: [] });
  });

  it('a burst of 600 requests (bad tokens and bad bodies, 150 at a time) is answered; the server stays up', async () => {
    let statuses: number[] = [];
    for (let wave = 0; wave < 4; wave++) {
      const rs = await Promise.all(
        Array.from({ length: 150 }, (_, i) =>
          i % 3 === 0 ? req('POST', '/symbols', { token: `${WRONG}${i}`, body: good }) : i % 3 === 1 ? req('POST', '/symbols', { body: '{' }) : req('GET', '/symbols', { token: null }),
        ),
      );
      statuses = statuses.concat(rs.map((r) => r.status));
    }
    assert.equal(statuses.length, 600);
    assert.ok(statuses.every((s) => s === 401 || s === 400), [...new Set(statuses)].join(','));
    assert.deepEqual(calls, { add: [], remove: [] });
    // Still up, and a legitimate request goes through.
    const ok = await req('POST', '/symbols', { body: good });
    assert.equal(ok.status, 200);
    assert.deepEqual(calls.add, [[{ market: 'usdm', symbol: 'BTCUSDT' }]]);
  });

  it('no token, right or wrong, ever reaches the log; refusals are logged rate-limited', () => {
    const text = logText.join('');
    assert.ok(text.includes('admin request without a valid token'), 'refusals are logged');
    for (const secret of [TOKEN, WRONG, TOKEN.slice(0, -1), TOKEN.toUpperCase(), Buffer.from(`admin:${TOKEN}`).toString('base64')]) {
      assert.ok(!text.includes(secret), `log contains ${secret}`);
    }
    const refusals = text.split('\n').filter((l) => l.includes('admin request without a valid token')).length;
    assert.ok(refusals < 50, `${refusals} refusal lines for hundreds of refusals`);
  });
});
