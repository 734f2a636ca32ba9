import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SymbolInfo } from '@cvd/binance';
import { applySelector } from './selectors.js';
import { parseSymbolFile } from './symbol-file.js';

const info = (symbol: string, extra: Partial<SymbolInfo> = {}): SymbolInfo => ({
  market: 'usdm',
  symbol,
  status: 'TRADING',
  baseAsset: symbol.replace(/USDT$|USDC$/, ''),
  quoteAsset: symbol.endsWith('USDC') ? 'USDC' : 'USDT',
  contractType: 'PERPETUAL',
  ...extra,
});
const selector = (yaml: string) => {
  const r = parseSymbolFile(`selectors:\n  - ${yaml}\n`, { file: 't' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value.selectors[0]!;
};
const exchange: SymbolInfo[] = [
  info('BTCUSDT'),
  info('ETHUSDT'),
  info('USDCUSDT'),
  info('BTCUSDC'),
  info('OLDUSDT', { status: 'SETTLING' }),
  info('ETHUSDT_260327', { contractType: 'CURRENT_QUARTER' }),
  info('SOLUSDT'),
  info('bad symbol', {}),
  info('BTCUSD_PERP', { market: 'coinm', quoteAsset: 'USD' }),
];

test('filters, exclude and limit, in exchangeInfo order', () => {
  const s = selector('{ market: usdm, status: TRADING, quoteAsset: USDT, contractType: PERPETUAL, exclude: [USDCUSDT] }');
  const r = applySelector(s, exchange);
  assert.deepEqual(r.symbols, ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
  assert.deepEqual(r.rejected.map((x) => x.symbol), ['bad symbol']);
  assert.deepEqual(applySelector(selector('{ market: usdm, quoteAsset: USDT, contractType: PERPETUAL, limit: 2 }'), exchange).symbols, ['BTCUSDT', 'ETHUSDT']);
});

test('a list of values matches any of them; a missing field never matches', () => {
  const r = applySelector(selector('{ market: usdm, status: [TRADING, SETTLING], quoteAsset: USDT, contractType: PERPETUAL }'), exchange);
  assert.ok(r.symbols.includes('OLDUSDT'));
  const spot = applySelector(selector('{ market: usdm, contractType: PERPETUAL }'), [info('X', { contractType: undefined } as Partial<SymbolInfo>)]);
  assert.deepEqual(spot.symbols, []);
});

test('other markets are ignored', () => {
  assert.deepEqual(applySelector(selector('{ market: coinm }'), exchange).symbols, ['BTCUSD_PERP']);
});
