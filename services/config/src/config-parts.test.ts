/**
 * The config service's parts without Kafka: exchangeInfo caching and verification, selector
 * resolution keeping its last answer, and the reconciler's queue and admin bookkeeping over
 * an in-memory topic. The whole service against a real broker is config-service.it.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { RestClient, SymbolInfo } from '@cvd/binance';
import { createLogger, createMetricsRegistry } from '@cvd/common';
import type { Market } from '@cvd/core';
import type { SymbolConfig } from '@cvd/schemas';
import type { OutRecord } from './desired.js';
import { ExchangeInfo } from './exchange-info.js';
import { SymbolFileSource } from './file-source.js';
import { createConfigMetrics } from './metrics.js';
import { Reconciler } from './reconciler.js';
import { SelectorResolver } from './selector-resolver.js';
import { parseSymbolFile } from './symbol-file.js';

const logger = createLogger({ service: 'config-test', level: 'silent' });
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const info = (market: Market, symbol: string): SymbolInfo => ({ market, symbol, status: 'TRADING', baseAsset: symbol.slice(0, 3), quoteAsset: 'USDT' });

/** A REST client answering from `listed`; `down` makes it fail; counts requests. */
function fakeRest(listed: Partial<Record<Market, string[]>>) {
  const state = { requests: 0, down: false };
  const rest = {
    exchangeInfo: async (market: Market) => {
      state.requests++;
      if (state.down) throw new Error('exchangeInfo unreachable');
      return (listed[market] ?? []).map((s) => info(market, s));
    },
  } as unknown as RestClient;
  return { rest, state };
}

function parse(yaml: string) {
  const r = parseSymbolFile(yaml, { file: 't' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

test('exchangeInfo: answers are cached per market; file and admin symbols are checked against it', async () => {
  let clock = 0;
  const { rest, state } = fakeRest({ usdm: ['BTCUSDT', 'ETHUSDT'] });
  const x = new ExchangeInfo({ rest, verify: true, verifyMaxAgeMs: 1_000, now: () => clock, logger });
  assert.equal((await x.infos('usdm', 1_000)).length, 2);
  await x.infos('usdm', 1_000);
  assert.equal(state.requests, 1, 'second call within maxAge is cached');
  clock = 2_000;
  await x.infos('usdm', 1_000);
  assert.equal(state.requests, 2, 'an older answer is refreshed');

  assert.deepEqual(await x.verifyFile(parse('usdm: [BTCUSDT, NOPEUSDT]\n'), 'symbols.yaml'), [
    'symbols.yaml: usdm symbol "NOPEUSDT" is not listed in usdm exchangeInfo',
  ]);
  assert.equal(await x.unlisted([{ market: 'usdm', symbol: 'ETHUSDT' }]), undefined);
  assert.equal(await x.unlisted([{ market: 'usdm', symbol: 'XUSDT' }]), 'usdm symbol "XUSDT" is not listed in usdm exchangeInfo');

  state.down = true;
  clock = 10_000;
  assert.equal(await x.unlisted([{ market: 'usdm', symbol: 'XUSDT' }]), undefined, 'unverifiable additions are accepted');
  assert.match((await x.verifyFile(parse('usdm: [BTCUSDT]\n'), 'f'))?.[0] ?? '', /could not verify the usdm symbols: exchangeInfo failed/);

  const off = new ExchangeInfo({ rest, verify: false, verifyMaxAgeMs: 1_000, now: () => clock, logger });
  assert.equal(await off.verifyFile(parse('usdm: [NOPE]\n'), 'f'), undefined);
  assert.equal(await off.unlisted([{ market: 'usdm', symbol: 'NOPE' }]), undefined);
});

test('selectors: a failed exchangeInfo keeps the last answer; a never-resolved market has no list', async () => {
  const { rest, state } = fakeRest({ usdm: ['BTCUSDT', 'ETHUSDT'], spot: ['BTCUSDT'] });
  const metrics = createConfigMetrics(createMetricsRegistry('config-test'));
  let clock = 0;
  const resolver = new SelectorResolver(new ExchangeInfo({ rest, verify: true, verifyMaxAgeMs: 0, now: () => (clock += 1_000), logger }), metrics, logger);
  const file = parse('selectors:\n  - { market: usdm, quoteAsset: USDT }\n');
  assert.deepEqual(resolver.lists(undefined), { spot: undefined, usdm: undefined, coinm: undefined });
  assert.deepEqual(resolver.lists(file), { spot: [], usdm: undefined, coinm: [] }, 'unresolved');
  await resolver.resolve(file, 0);
  assert.deepEqual(resolver.lists(file).usdm, ['BTCUSDT', 'ETHUSDT']);
  state.down = true;
  await resolver.resolve(file, 0);
  assert.deepEqual(resolver.lists(file).usdm, ['BTCUSDT', 'ETHUSDT'], 'last good answer kept');
  assert.match(resolver.errors.get('usdm') ?? '', /unreachable/);
  assert.equal(resolver.refreshes, 2);
});

test('reconciler: publishes only differences, in order; admin add/remove bookkeeping', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cvd-config-parts-'));
  dirs.push(dir);
  const path = join(dir, 'symbols.yaml');
  writeFileSync(path, 'usdm: [BTCUSDT]\n');
  const metrics = createConfigMetrics(createMetricsRegistry('config-test'));
  const current = new Map<string, SymbolConfig | null>();
  const batches: string[][] = [];
  const topic = {
    current,
    publish: async (records: readonly OutRecord[]) => {
      batches.push(records.map((r) => `${r.value === null ? '-' : '+'}${r.key}`));
      for (const r of records) current.set(r.key, r.value === null ? null : { ...r.value, anchorCvd: null, notes: null });
      const tombstones = records.filter((r) => r.value === null).length;
      return { records: records.length - tombstones, tombstones };
    },
  };
  const file = new SymbolFileSource({ path, label: 'symbols.yaml', maxBytes: 1024, logger, metrics });
  const { rest } = fakeRest({});
  const selectors = new SelectorResolver(new ExchangeInfo({ rest, verify: false, verifyMaxAgeMs: 0, now: () => 0, logger }), metrics, logger);
  const reconciler = new Reconciler({ topic, file, selectors, metrics, logger, now: () => 1_000 });

  assert.equal(await file.load('start', true), true);
  assert.deepEqual(await reconciler.reconcile('start'), { records: 1, tombstones: 0 });
  assert.equal(await file.load('again'), false, 'unchanged content is skipped');
  assert.deepEqual(await reconciler.reconcile('again'), { records: 0, tombstones: 0 });

  const order: string[] = [];
  const first = reconciler.serial(async () => {
    await new Promise((r) => setTimeout(r, 5));
    order.push('first');
  });
  const second = reconciler.serial(async () => void order.push('second'));
  await Promise.all([first, second]);
  assert.deepEqual(order, ['first', 'second'], 'the queue runs changes in order');

  assert.deepEqual(reconciler.addByApi(['usdm:ETHUSDT', 'usdm:ETHUSDT']), { added: ['usdm:ETHUSDT'], unchanged: ['usdm:ETHUSDT'] });
  await reconciler.reconcile('add');
  assert.deepEqual(reconciler.view().map((v) => `${v.market}:${v.symbol}:${v.source}`).sort(), ['usdm:BTCUSDT:file', 'usdm:ETHUSDT:api']);
  assert.equal(reconciler.removeByApi('usdm:NOPE'), undefined);
  assert.equal(reconciler.removeByApi('usdm:ETHUSDT'), 'tombstone', 'only the API listed it');
  assert.equal(reconciler.removeByApi('usdm:BTCUSDT'), 'disabled', 'the file lists it');
  await reconciler.reconcile('remove');
  assert.deepEqual(batches[0], ['+usdm:BTCUSDT']);
  assert.deepEqual(batches[1], ['+usdm:ETHUSDT']);
  assert.deepEqual([...(batches[2] ?? [])].sort(), ['+usdm:BTCUSDT', '-usdm:ETHUSDT']);
  assert.equal(reconciler.view().find((v) => v.symbol === 'BTCUSDT')?.enabled, false);
  assert.equal(reconciler.reconciles, 4);

  writeFileSync(path, 'usdm: [BTCUSDT\n');
  assert.equal(await file.load('broken'), false);
  assert.equal(file.invalidLoads, 1);
  assert.ok(file.errors.length > 0);
  assert.deepEqual(file.file?.symbols.usdm, ['BTCUSDT'], 'an invalid file never replaces the valid one');
});
