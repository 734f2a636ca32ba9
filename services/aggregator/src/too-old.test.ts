import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { createLogger } from '@cvd/common';
import type { RejectedTrade } from '@cvd/engine';
import { TooOldTrades } from './too-old.js';
import { Writable } from 'node:stream';

const trade = (symbol: string, aggId: number): RejectedTrade['trade'] => ({
  market: 'usdm', symbol, aggId, price: '1', qty: '1', firstId: aggId, lastId: aggId, tradeTimeMs: Date.UTC(2024, 4, 1), buyerMaker: false, recovered: false,
});

test('TooOldTrades: counts beyond-horizon and settled-id per symbol, ignores other reasons, warns once per symbol', async () => {
  const lines: string[] = [];
  const logger = createLogger({ service: 'test', level: 'warn', destination: new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) }) });
  const registry = new Registry();
  const counter = new Counter({ name: 'too_old', help: 'x', labelNames: ['market', 'symbol', 'reason'] as const, registers: [registry] });
  const t = new TooOldTrades(logger, counter);
  const wm = Date.UTC(2026, 11, 1);
  t.note([{ index: 0, trade: trade('BTCUSDT', 1), reason: 'beyond-horizon', detail: '' }, { index: 1, trade: trade('BTCUSDT', 2), reason: 'zero-qty', detail: '' }], 0, wm);
  t.note([{ index: 0, trade: trade('BTCUSDT', 3), reason: 'settled-id', detail: '' }, { index: 1, trade: trade('ETHUSDT', 4), reason: 'beyond-horizon', detail: '' }], 0, wm);
  assert.deepEqual(t.snapshot(), { 'usdm:BTCUSDT': { 'beyond-horizon': 1, 'settled-id': 1 }, 'usdm:ETHUSDT': { 'beyond-horizon': 1 } });
  assert.equal(t.total, 3);
  const text = await registry.metrics();
  assert.match(text, /too_old\{market="usdm",symbol="BTCUSDT",reason="beyond-horizon"\} 1/);
  assert.match(text, /too_old\{market="usdm",symbol="BTCUSDT",reason="settled-id"\} 1/);
  assert.doesNotMatch(text, /zero-qty/);
  await new Promise((r) => setImmediate(r));
  const warns = lines.filter((l) => l.includes('cvd stack reset'));
  assert.equal(warns.length, 2, 'one warning per symbol');
  assert.match(warns[0] ?? '', /trades older than the aggregator's watermark are dropped \(usdm:BTCUSDT trade at 2024-05-01T00:00:00.000Z, partition watermark 2026-12-01T00:00:00.000Z/);
});
