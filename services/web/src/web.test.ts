/** HTTP behaviour of the service with a stand-in SQL executor (no QuestDB semantics tested here). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '@cvd/common';
import { QuestDbError, type ExecResult } from '@cvd/questdb';
import { startWeb, type RunningWeb } from './web.js';

const seen: string[] = [];
let failWith: Error | undefined;
const sql = {
  async exec(query: string): Promise<ExecResult> {
    seen.push(query);
    if (failWith) throw failWith;
    if (query.includes('LATEST ON')) {
      return { columns: [{ name: 'market', type: 'SYMBOL' }, { name: 'symbol', type: 'SYMBOL' }, { name: 'ts', type: 'TIMESTAMP' }], dataset: [['usdm', 'BTCUSDT', '2024-05-01T12:03:00.000000Z']], count: 1 };
    }
    return { columns: [{ name: 'ts', type: 'TIMESTAMP' }, { name: 'close', type: 'DOUBLE' }, { name: 'final', type: 'BOOLEAN' }], dataset: [['2024-05-01T12:00:00.000000Z', 1.5, true]], count: 1 };
  },
};

let web: RunningWeb;
before(async () => {
  web = await startWeb({ questdb: { httpUrl: 'http://127.0.0.1:9' }, port: 0, sql, logger: createLogger({ service: 'web-test', level: 'silent' }) });
});
after(() => web.close());

const get = async (path: string) => {
  const res = await fetch(`${web.url}${path}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers };
};

describe('web HTTP surface', () => {
  test('page, assets and the vendored chart library are served, with a same-origin CSP', async () => {
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.match(page.type, /text\/html/);
    assert.match(page.text, /<script src="\/vendor\/lightweight-charts.js"/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const lib = await get('/vendor/lightweight-charts.js');
    assert.equal(lib.status, 200);
    assert.match(lib.text, /LightweightCharts/);
    assert.equal((await get('/app.js')).status, 200);
    const fold = await get('/fold.js');
    assert.equal(fold.status, 200);
    assert.match(fold.type, /text\/javascript/);
    assert.equal((await get('/app.css')).status, 200);
    assert.equal((await get('/nope')).status, 404);
  });

  test('/api/symbols and /api/bars shape', async () => {
    const syms = await get('/api/symbols');
    assert.deepEqual(JSON.parse(syms.text), [{ market: 'usdm', symbol: 'BTCUSDT', lastTs: '2024-05-01T12:03:00.000Z' }]);
    const bars = JSON.parse((await get('/api/bars?market=usdm&symbol=BTCUSDT&tf=5m&limit=3')).text);
    assert.equal(bars.tf, '5m');
    assert.deepEqual(bars.bars[0].ts, '2024-05-01T12:00:00.000Z');
    assert.equal(bars.bars[0].time, Date.UTC(2024, 4, 1, 12) / 1000);
    assert.equal(bars.bars[0].close, 1.5);
    assert.equal(bars.bars[0].final, true);
    assert.match(seen.at(-1) ?? '', /FROM cvd_bars_5m WHERE market = 'usdm' AND symbol = 'BTCUSDT' LIMIT -3$/);
  });

  test('hostile or malformed parameters: 400 with the reason, and no SQL runs', async () => {
    const before = seen.length;
    for (const [path, reason] of [
      [`/api/bars?market=usdm&symbol=${encodeURIComponent("x' OR 1=1 --")}`, /^symbol:/],
      ['/api/bars?market=nyse&symbol=X', /^market:/],
      ['/api/bars?market=usdm&symbol=X&tf=7m', /^tf:/],
      ['/api/bars?market=usdm&symbol=X&limit=100000', /^limit:/],
      ['/api/bars?market=usdm&symbol=X&since=now', /^since:/],
      ['/api/bars?market=usdm&symbol=X&order=desc', /^unknown parameter/],
    ] as const) {
      const r = await get(path);
      assert.equal(r.status, 400, path);
      assert.match(r.type, /application\/json/);
      assert.match(JSON.parse(r.text).error, reason);
    }
    assert.equal(seen.length, before);
  });

  test('QuestDB failures: 503 when unreachable (retriable), 502 when it rejects; health follows', async () => {
    failWith = new QuestDbError('unreachable', 'QuestDB at x is unreachable', { retriable: true });
    assert.equal((await get('/api/symbols')).status, 503);
    assert.equal((await get('/health')).status, 503);
    failWith = new QuestDbError('sql-error', 'table does not exist');
    assert.equal((await get('/api/bars?market=usdm&symbol=X')).status, 502);
    failWith = undefined;
    assert.equal((await get('/health')).status, 200);
    const metrics = await get('/metrics');
    assert.ok(/cvd_web_http_requests_total\{[^}]*route="bars",status="400"[^}]*\} 6\n/.test(metrics.text), 'request counter by route and status');
    assert.ok(/cvd_web_questdb_query_seconds_count\{[^}]*query="bars"[^}]*\} \d/.test(metrics.text), 'query duration histogram');
  });
});
