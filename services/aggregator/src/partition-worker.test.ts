import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EngineTrade } from '@cvd/engine';
import { decodeRecord } from './decode.js';
import { PartitionWorker } from './partition-worker.js';
import { encodeTrade } from '@cvd/schemas';

const M0 = Date.UTC(2024, 0, 1, 0, 0);
const trade = (aggId: number, t: number, qty = '1', buyerMaker = false): EngineTrade => ({
  market: 'usdm', symbol: 'BTCUSDT', aggId, price: '100', qty, firstId: aggId, lastId: aggId, tradeTimeMs: t, buyerMaker, recovered: false,
});

describe('PartitionWorker', () => {
  test('keeps the latest pending version per bar and tracks offsets and the event watermark', () => {
    const w = PartitionWorker.fresh(3, { graceMs: 1000 }, 10n, 0);
    w.apply([trade(1, M0 + 1000), trade(2, M0 + 2000, '2', true)], 12n, 5);
    w.apply([trade(3, M0 + 3000)], 13n, 6);
    assert.equal(w.nextOffset, 13n);
    assert.equal(w.eventWatermarkMs, M0 + 3000);
    const rows = w.takePending();
    assert.equal(rows.length, 1, 'one bar, latest version only');
    assert.equal(rows[0]?.delta, '0');
    assert.equal(rows[0]?.aggTrades, 3);
    assert.equal(rows[0]?.final, false);
    assert.equal(w.takePending().length, 0);
  });

  test('an idle partition finalises by elapsed wall time, not by the absolute clock', () => {
    const w = PartitionWorker.fresh(0, { graceMs: 1000 }, 0n, 1_000_000);
    w.apply([trade(1, M0 + 59_000)], 1n, 1_000_000);
    w.takePending();
    assert.equal(w.advanceIdle(1_000_500, 1000), undefined, 'not idle yet');
    // 1.5 s idle: watermark M0+60.5 s, below minute end + grace.
    assert.equal(w.advanceIdle(1_001_500, 1000)?.upserts.length ?? 0, 0);
    // 2.1 s idle: watermark M0+61.1 s ≥ M0+60 s+1 s grace → final.
    const r = w.advanceIdle(1_002_100, 1000);
    assert.equal(r?.upserts.length, 1);
    assert.equal(r?.upserts[0]?.final, true);
    assert.equal(w.takePending()[0]?.final, true);
  });

  test('restorePending keeps newer versions', () => {
    const w = PartitionWorker.fresh(0, {}, 0n, 0);
    w.apply([trade(1, M0)], 1n, 0);
    const old = w.takePending();
    w.apply([trade(2, M0 + 1)], 2n, 0);
    w.restorePending(old);
    assert.equal(w.takePending()[0]?.aggTrades, 2);
  });
});

describe('decodeRecord', () => {
  test('decodes a trade record and reports broken ones with a reason', () => {
    const ok = decodeRecord(encodeTrade({ ...trade(7, M0), eventTimeMs: M0, receivedAtMs: M0 }));
    assert.equal(ok.ok && ok.trades[0]?.aggId, 7);
    for (const [buf, reason] of [[null, 'empty-value'], [Buffer.from([1, 2, 3]), 'bad-magic'], [Buffer.from([0xc5, 0x01, 0x02]), 'truncated']] as const) {
      const r = decodeRecord(buf);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.reason, reason);
    }
  });
});

describe('PartitionWorker idle watermark and lag', () => {
  test('a partition behind its high watermark does not advance by idle time', () => {
    const w = PartitionWorker.fresh(0, { graceMs: 1000 }, 0n, 1_000_000);
    w.apply([trade(1, M0 + 59_000)], 1n, 1_000_000);
    w.takePending();
    w.knownHighWatermark = 5n; // four records not read yet
    assert.equal(w.advanceIdle(1_010_000, 1000), undefined);
    w.knownHighWatermark = 1n; // caught up
    assert.equal(w.advanceIdle(1_010_000, 1000)?.upserts[0]?.final, true);
  });
});
