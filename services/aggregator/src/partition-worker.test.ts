import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { concatPieces, deserializeState, serializeState, type EngineTrade } from '@cvd/engine';
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

  test('takePending(false) hands over the final rows only; forming rows stay pending with their latest values', () => {
    const w = PartitionWorker.fresh(0, { graceMs: 1000 }, 0n, 0);
    w.apply([trade(1, M0 + 1000)], 1n, 0);
    // Minute 1 trades: minute 0 turns final (watermark past its end + grace), minute 1 is forming.
    w.apply([trade(2, M0 + 62_000), trade(3, M0 + 63_000)], 3n, 0);
    const finals = w.takePending(false);
    assert.deepEqual(finals.map((r) => [r.ts, r.final, r.aggTrades]), [[M0, true, 1]]);
    assert.equal(w.pendingCount, 1, 'the forming bar is still pending');
    w.apply([trade(4, M0 + 64_000)], 4n, 0);
    assert.deepEqual(w.takePending(false), []);
    const rest = w.takePending();
    assert.deepEqual(rest.map((r) => [r.ts, r.final, r.aggTrades]), [[M0 + 60_000, false, 3]]);
    assert.equal(w.pendingCount, 0);
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
    w.observeHighWatermark(5n); // four records not read yet
    assert.equal(w.advanceIdle(1_010_000, 1000), undefined);
    w.observeHighWatermark(1n); // caught up
    assert.equal(w.advanceIdle(1_010_000, 1000)?.upserts[0]?.final, true);
  });
});

describe('PartitionWorker checkpoints', () => {
  test('a snapshot is due after progress and the interval, or on request; markCheckpointed resets it', () => {
    const w = PartitionWorker.fresh(0, {}, 10n, 0);
    assert.equal(w.snapshotDue(1_000_000, 5000), false, 'no progress since the restore');
    w.apply([trade(1, M0)], 11n, 100);
    assert.equal(w.snapshotDue(4_000, 5000), false, 'interval not passed');
    assert.equal(w.snapshotDue(5_000, 5000), true);
    w.markCheckpointed(11n, 5_000);
    assert.equal(w.snapshotOffset, 11n);
    assert.equal(w.snapshotDue(20_000, 5000), false, 'nothing new since the snapshot');
    w.apply([trade(2, M0 + 1)], 12n, 5_100);
    assert.equal(w.snapshotDue(5_200, 5000), false);
    w.requestSnapshot();
    assert.equal(w.snapshotDue(5_200, 5000), true, 'requested: due whatever the interval');
    w.markCheckpointed(12n, 5_200);
    w.apply([trade(3, M0 + 2)], 13n, 5_300);
    assert.equal(w.snapshotDue(5_400, 5000), false, 'a request is used up by the checkpoint');
  });
});

describe('PartitionWorker missing ids', () => {
  test('bars with missing ids are counted until complete, and forgotten once past the horizon', () => {
    const w = PartitionWorker.fresh(0, { graceMs: 1000, horizonMs: 2 * 60_000 }, 0n, 0);
    // aggIds 1 and 3 in minute 0: id 2 is missing there.
    w.apply([trade(1, M0 + 1000), trade(3, M0 + 2000)], 2n, 0);
    w.noteWritten(w.takePending());
    const sums = (): Record<string, number> => {
      const s: Record<string, number> = {};
      w.addMissingTo(s);
      return s;
    };
    assert.deepEqual(sums(), { usdm: 1 });
    // Minute 5 is far later: minute 0 stays incomplete but leaves the horizon.
    w.apply([trade(10, M0 + 5 * 60_000)], 3n, 0);
    const rows = w.takePending();
    assert.ok(rows.every((r) => r.ts !== M0 || r.missingAggIds > 0), 'minute 0 never got its id 2');
    w.noteWritten(rows);
    assert.equal(sums().usdm ?? 0, rows.filter((r) => r.ts !== M0).reduce((a, r) => a + r.missingAggIds, 0), 'minute 0 forgotten');
    assert.equal(w.missingBars, 1, `bounded: only minute 5 (ids 4..9 missing) is remembered, not minute 0 (${w.missingBars} bars remembered)`);
    assert.deepEqual(sums(), { usdm: 6 }, 'ids 4..9, owned by the bar holding id 10');
  });

  test('a write showing a bar complete forgets it', () => {
    const w = PartitionWorker.fresh(0, {}, 0n, 0);
    w.apply([trade(1, M0 + 1000), trade(3, M0 + 2000)], 2n, 0);
    w.noteWritten(w.takePending());
    assert.equal(w.missingBars, 1);
    w.apply([trade(2, M0 + 1500)], 3n, 0);
    w.noteWritten(w.takePending());
    assert.equal(w.missingBars, 0);
  });

  test('a captured snapshot is the state at its offset, whatever is applied after the capture', () => {
    const w = PartitionWorker.fresh(1, { graceMs: 1000 }, 0n, 0);
    w.apply([trade(1, M0 + 1000), trade(2, M0 + 2000)], 2n, 1);
    const first = w.captureSnapshot();
    const firstText = serializeState(w.state);
    w.apply([trade(3, M0 + 61_000), trade(4, M0 + 62_000, '3', true)], 5n, 2);
    const second = w.captureSnapshot();
    const secondText = serializeState(w.state);
    w.apply([trade(5, M0 + 63_000)], 6n, 3);
    assert.equal(first.offset, 2n);
    assert.equal(second.offset, 5n);
    assert.equal(concatPieces(first.pieces).toString('utf8'), firstText);
    assert.equal(concatPieces(second.pieces).toString('utf8'), secondText);
    // Restored from the second capture and given offset 5's record, it is the live state.
    const restored = new PartitionWorker(1, deserializeState(concatPieces(second.pieces).toString('utf8')), second.offset, 3);
    restored.apply([trade(5, M0 + 63_000)], 6n, 3);
    assert.equal(serializeState(restored.state), serializeState(w.state));
  });
});
