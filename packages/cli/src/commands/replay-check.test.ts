import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replayRefusal } from './replay-check.js';

test('replayRefusal: refuses when the stack holds a trade at or after the file\'s first trade; otherwise lets it run', () => {
  const file = Date.UTC(2024, 4, 1);
  const newest = (tradeTimeMs: number) => ({ market: 'usdm', symbol: 'BTCUSDT', tradeTimeMs, partition: 3 });
  assert.equal(replayRefusal(file, undefined, 't'), undefined, 'fresh stack');
  assert.equal(replayRefusal(undefined, newest(file), 't'), undefined, 'a file without trades');
  assert.equal(replayRefusal(file, newest(file - 1), 't'), undefined, 'only older state');
  const line = replayRefusal(file, newest(file), 'cvd.trades.v1');
  assert.equal(line, 'cvd run: the stack already holds newer trades than the replay (usdm:BTCUSDT at 2024-05-01T00:00:00.000Z in cvd.trades.v1; the file starts at 2024-05-01T00:00:00.000Z), so the aggregator would drop every replayed trade as too old: run `npx cvd stack reset` (deletes every topic and table of this stack) and start the replay again');
  assert.match(replayRefusal(file, newest(Date.UTC(2026, 11, 3)), 't') ?? '', /2026-12-03T00:00:00\.000Z/);
});
