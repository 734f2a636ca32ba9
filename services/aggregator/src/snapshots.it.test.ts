/**
 * The snapshot store against real Kafka: a snapshot written now (gzipped by the store, marked
 * `content-encoding: gzip`) and one written by earlier versions (plain JSON, gzipped by Kafka)
 * both restore to the same state; a value that does not decode is skipped, not restored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '@cvd/common';
import { applyBatch, createState, serializeState, StateSerializer } from '@cvd/engine';
import { ensureTopics, pipelineTopics, Sender, type Kafka } from '@cvd/kafka';
import { getTestStack, uniqueTopic } from '@cvd/test-kit';
import { SNAPSHOT_FORMAT, SnapshotStore } from './snapshots.js';
import { MINUTE, syntheticTrades, testKafka } from './testing.js';

const START = Date.UTC(2024, 5, 3, 10, 0);
let kafka: Kafka;
let store: SnapshotStore;
let raw: Sender;
const names = { trades: uniqueTopic('snap.trades'), symbols: uniqueTopic('snap.symbols'), deadLetter: uniqueTopic('snap.dlq'), aggregatorState: uniqueTopic('snap.state') };
const groupId = 'snapshot-store-test';

before(async () => {
  const stack = await getTestStack();
  kafka = testKafka(stack.brokers);
  await ensureTopics(kafka, pipelineTopics(names, 3));
  store = new SnapshotStore(kafka, { stateTopic: names.aggregatorState, tradesTopic: names.trades, groupId, logger: createLogger({ service: 'test', level: 'silent' }) });
  await store.connect();
  raw = new Sender(kafka, { compression: 'gzip' });
  await raw.connect();
});

after(async () => {
  await store?.close();
  await raw?.close();
});

describe('SnapshotStore with real Kafka', () => {
  test('restores what it wrote, snapshots of earlier versions, and skips a value that does not decode', async () => {
    const state = createState({ graceMs: 1000 });
    applyBatch(state, syntheticTrades({ seed: 11, symbols: 5, minutes: 3, startMs: START }), START + 3 * MINUTE);
    const text = serializeState(state);
    const headers = (offset: string) => ({ format: SNAPSHOT_FORMAT, 'next-offset': offset, 'trades-topic': names.trades });
    const key = (p: number) => `${groupId}|${names.trades}|${p}`;

    await store.write(0, 42n, new StateSerializer().serializeToBuffer(state));
    // As earlier versions wrote it: plain JSON, compressed by Kafka, no content-encoding.
    await raw.send(names.aggregatorState, [{ partition: 1, key: key(1), value: Buffer.from(text, 'utf8'), headers: headers('17') }]);
    // Marked gzip but not gzip: corrupt.
    await raw.send(names.aggregatorState, [{ partition: 2, key: key(2), value: Buffer.from(text, 'utf8'), headers: { ...headers('5'), 'content-encoding': 'gzip' } }]);

    const got = await store.readMany([0, 1, 2]);
    assert.deepEqual([...got.keys()].sort(), [0, 1]);
    assert.equal(got.get(0)?.nextOffset, 42n);
    assert.equal(got.get(1)?.nextOffset, 17n);
    for (const p of [0, 1]) {
      assert.equal(serializeState(got.get(p)!.state), text, `partition ${p} restores the state`);
      assert.equal(got.get(p)!.bytes, Buffer.byteLength(text), 'bytes = the JSON size');
    }
  });
});
