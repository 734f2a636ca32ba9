import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SymbolConfig } from '@cvd/schemas';
import { apiStateFromTopic, computeDesired, diffSymbols, type ApiState, type MarketLists } from './desired.js';

const cfg = (k: string, source: string, enabled = true, extra: Partial<SymbolConfig> = {}): [string, SymbolConfig] => {
  const [market, symbol] = k.split(':') as [SymbolConfig['market'], string];
  return [k, { market, symbol, enabled, source, updatedAtMs: 1, anchorCvd: null, notes: null, ...extra }];
};
const lists = (l: Partial<Record<'spot' | 'usdm' | 'coinm', string[] | undefined>>): MarketLists => ({
  spot: 'spot' in l ? l.spot : [],
  usdm: 'usdm' in l ? l.usdm : [],
  coinm: 'coinm' in l ? l.coinm : [],
});
const noApi = (): ApiState => ({ added: new Set(), removed: new Set() });
const summary = (m: Map<string, { enabled: boolean; source: string }>): string[] =>
  [...m].map(([k, d]) => `${k} ${d.source}${d.enabled ? '' : ' disabled'}`);

describe('computeDesired', () => {
  test('file ∪ selectors ∪ api-added − api-removed, strongest source wins', () => {
    const api: ApiState = { added: new Set(['usdm:XRPUSDT', 'spot:BTCUSDT']), removed: new Set(['usdm:ETHUSDT']) };
    const d = computeDesired({
      file: lists({ spot: ['BTCUSDT'], usdm: ['BTCUSDT', 'ETHUSDT'] }),
      selected: lists({ usdm: ['BTCUSDT', 'SOLUSDT', 'ETHUSDT'] }),
      api,
      current: new Map(),
    });
    assert.deepEqual(summary(d), [
      'spot:BTCUSDT api',
      'usdm:BTCUSDT file',
      'usdm:ETHUSDT api disabled',
      'usdm:SOLUSDT selector',
      'usdm:XRPUSDT api',
    ]);
    assert.deepEqual(d.get('usdm:BTCUSDT')?.sources, ['file', 'selector']);
    assert.deepEqual(d.get('usdm:ETHUSDT')?.sources, ['api', 'file', 'selector']);
  });

  test('unknown file or selector answers keep what the topic holds for that source', () => {
    const current = new Map<string, SymbolConfig | null>([cfg('usdm:A', 'file'), cfg('usdm:B', 'selector'), cfg('spot:C', 'selector'), cfg('usdm:D', 'api', false)]);
    current.set('usdm:GONE', null);
    const unknownFile = computeDesired({ file: undefined, selected: lists({ usdm: undefined }), api: apiStateFromTopic(current), current });
    assert.deepEqual(summary(unknownFile), ['usdm:A file', 'usdm:B selector', 'usdm:D api disabled']);
    const known = computeDesired({ file: lists({}), selected: lists({}), api: apiStateFromTopic(current), current });
    assert.deepEqual(summary(known), ['usdm:D api disabled']);
  });

  test('apiStateFromTopic reads api records only', () => {
    const current = new Map<string, SymbolConfig | null>([cfg('usdm:A', 'api'), cfg('usdm:B', 'api', false), cfg('usdm:C', 'file')]);
    current.set('usdm:D', null);
    const s = apiStateFromTopic(current);
    assert.deepEqual([...s.added], ['usdm:A']);
    assert.deepEqual([...s.removed], ['usdm:B']);
  });
});

describe('diffSymbols', () => {
  const desired = (file: Partial<Record<'spot' | 'usdm' | 'coinm', string[]>>, api = noApi()) =>
    computeDesired({ file: lists(file), selected: lists({}), api, current: new Map() });

  test('empty topic → one record per desired symbol, sorted, stamped with now', () => {
    const out = diffSymbols(new Map(), desired({ usdm: ['ETHUSDT', 'BTCUSDT'], spot: ['BTCUSDT'] }), 1234);
    assert.deepEqual(out.map((r) => r.key), ['spot:BTCUSDT', 'usdm:BTCUSDT', 'usdm:ETHUSDT']);
    assert.deepEqual(out[0]?.value, { market: 'spot', symbol: 'BTCUSDT', enabled: true, source: 'file', updatedAtMs: 1234, anchorCvd: null, notes: null });
  });

  test('unchanged set → nothing, whatever updatedAtMs says', () => {
    const current = new Map<string, SymbolConfig | null>([cfg('usdm:BTCUSDT', 'file'), cfg('spot:BTCUSDT', 'file')]);
    assert.deepEqual(diffSymbols(current, desired({ usdm: ['BTCUSDT'], spot: ['BTCUSDT'] }), 99), []);
  });

  test('add, remove and change: records for new/changed, tombstones for removed', () => {
    const current = new Map<string, SymbolConfig | null>([cfg('usdm:BTCUSDT', 'file'), cfg('usdm:ETHUSDT', 'file'), cfg('usdm:SOLUSDT', 'selector', true, { anchorCvd: '-12.5', notes: { a: 'b' } })]);
    current.set('usdm:OLD', null);
    const out = diffSymbols(current, desired({ usdm: ['BTCUSDT', 'SOLUSDT', 'XRPUSDT'] }), 7);
    assert.deepEqual(
      out.map((r) => `${r.key}=${r.value === null ? 'tombstone' : r.value.source}`),
      ['usdm:ETHUSDT=tombstone', 'usdm:SOLUSDT=file', 'usdm:XRPUSDT=file'],
    );
    const sol = out.find((r) => r.key === 'usdm:SOLUSDT')?.value;
    assert.equal(sol?.anchorCvd, '-12.5', 'anchor carried over');
    assert.deepEqual(sol?.notes, { a: 'b' });
  });

  test('an existing tombstone of an undesired key produces nothing; of a desired key, a record', () => {
    const current = new Map<string, SymbolConfig | null>([['usdm:A', null], ['usdm:B', null]]);
    const out = diffSymbols(current, desired({ usdm: ['B'] }), 1);
    assert.deepEqual(out.map((r) => r.key), ['usdm:B']);
  });

  test('enabled flips are changes', () => {
    const api: ApiState = { added: new Set(), removed: new Set(['usdm:A']) };
    const current = new Map<string, SymbolConfig | null>([cfg('usdm:A', 'file')]);
    const out = diffSymbols(current, desired({ usdm: ['A'] }, api), 1);
    assert.equal(out.length, 1);
    assert.equal(out[0]?.value?.enabled, false);
    assert.equal(out[0]?.value?.source, 'api');
  });
});
