import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { captureIo } from './data-testing.js';
import { symbolsCommand } from './symbols.js';

/** A stand-in for the config service's admin API that records the requests it gets. */
async function fakeAdmin(): Promise<{ url: string; requests: { method: string; url: string; auth: string | undefined; body: string }[]; close: () => void }> {
  const requests: { method: string; url: string; auth: string | undefined; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
      res.setHeader('content-type', 'application/json');
      if (req.method !== 'GET' && req.headers.authorization !== 'Bearer good-token-0123456789') {
        res.statusCode = 401;
        return res.end('{"error":"unauthorized"}');
      }
      if (req.method === 'GET') return res.end(JSON.stringify({ count: 2, symbols: [{ market: 'usdm', symbol: 'BTCUSDT', enabled: true, source: 'file', sources: ['file'] }, { market: 'spot', symbol: 'OLD', enabled: false, source: 'api', sources: [] }], file: { path: 'config/symbols.yaml', valid: true, errors: [] } }));
      if (req.method === 'POST') return res.end(JSON.stringify({ status: 'ok', added: ['spot:ETHUSDT'], unchanged: ['usdm:BTCUSDT'] }));
      if (req.url === '/symbols/usdm/NOPE') {
        res.statusCode = 404;
        return res.end('{"error":"not-found","message":"usdm:NOPE is not in the set"}');
      }
      return res.end('{"status":"ok","effect":"tombstone"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => server.close() };
}

test('symbols ls/add/rm through the admin API with the bearer token', async () => {
  const api = await fakeAdmin();
  try {
    const env = { CONFIG_ADMIN_URL: api.url, CONFIG_ADMIN_TOKEN: 'good-token-0123456789' };
    const ls = captureIo();
    assert.equal(await symbolsCommand(['ls'], ls.io, env), 0);
    assert.match(ls.out[0] ?? '', /market\s+symbol\s+enabled\s+source/);
    assert.match(ls.out[0] ?? '', /usdm\s+BTCUSDT\s+yes\s+file/);
    assert.doesNotMatch(ls.out[0] ?? '', /OLD/);
    assert.match(ls.out[1] ?? '', /1 symbol; file config\/symbols\.yaml valid/);
    const all = captureIo();
    assert.equal(await symbolsCommand(['ls', '--all'], all.io, env), 0);
    assert.match(all.out[0] ?? '', /spot\s+OLD\s+no/);

    const add = captureIo();
    assert.equal(await symbolsCommand(['add', 'spot:ETHUSDT', 'usdm:BTCUSDT'], add.io, env), 0);
    assert.equal(add.out[0], 'done: added 1 (spot:ETHUSDT), unchanged 1 (usdm:BTCUSDT)');
    const post = api.requests.find((r) => r.method === 'POST');
    assert.equal(post?.auth, 'Bearer good-token-0123456789');
    assert.deepEqual(JSON.parse(post?.body ?? ''), [{ market: 'spot', symbol: 'ETHUSDT' }, { market: 'usdm', symbol: 'BTCUSDT' }]);

    const rm = captureIo();
    assert.equal(await symbolsCommand(['rm', 'spot:币安人生USDT'], rm.io, env), 0);
    assert.equal(api.requests.at(-1)?.url, `/symbols/spot/${encodeURIComponent('币安人生USDT')}`);
    assert.match(rm.out[0] ?? '', /removed spot:币安人生USDT \(tombstone\)/);
    await assert.rejects(symbolsCommand(['rm', 'usdm:NOPE'], captureIo().io, env), /DELETE \/symbols\/usdm\/NOPE failed \(404\): usdm:NOPE is not in the set/);
    await assert.rejects(symbolsCommand(['add', 'spot:X'], captureIo().io, { CONFIG_ADMIN_URL: api.url, CONFIG_ADMIN_TOKEN: 'wrong-token-0123456789' }), /refused the token \(401\)/);
    await assert.rejects(symbolsCommand(['add', 'spot:X'], captureIo().io, { CONFIG_ADMIN_URL: api.url }), /needs CONFIG_ADMIN_TOKEN/);
    await assert.rejects(symbolsCommand(['add', 'BTCUSDT'], captureIo().io, env), /expected MARKET:SYMBOL/);
    await assert.rejects(symbolsCommand(['frob'], captureIo().io, env), /expected ls, add or rm, got "frob"/);
    await assert.rejects(symbolsCommand(['ls'], captureIo().io, { CONFIG_ADMIN_URL: 'http://127.0.0.1:1' }), /unreachable .*CONFIG_ADMIN_URL/);
  } finally {
    api.close();
  }
});
