import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kafka } from 'kafkajs';
import { BatchingProducer } from './producer.js';

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } } as unknown as ConstructorParameters<typeof BatchingProducer>[1]['logger'];

function fakeKafka(sends: number[][]): Kafka {
  return {
    producer: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      sendBatch: async (b: { topicMessages: { messages: { value: Buffer | null }[] }[] }) => {
        sends.push(b.topicMessages.flatMap((t) => t.messages.map((m) => m.value?.length ?? 0)));
        return [];
      },
    }),
  } as unknown as Kafka;
}

test('a send never carries more than maxBatchBytes (a lone larger message goes alone), order kept', async () => {
  const sends: number[][] = [];
  const p = new BatchingProducer(fakeKafka(sends), { logger: silent, maxBatchBytes: 1000, lingerMs: 1 });
  const sizes = [400, 400, 400, 1500, 10, 10, 990];
  p.enqueue('t', sizes.map((n, i) => ({ key: `k${i % 2}`, value: Buffer.alloc(n) })));
  await p.flush();
  assert.deepEqual(sends.flat(), sizes, 'every message once, in order');
  for (const s of sends) {
    const bytes = s.reduce((a, b) => a + b + 2, 0);
    assert.ok(s.length === 1 || bytes <= 1000, `send of ${bytes} bytes`);
  }
  assert.ok(sends.length >= 4);
});

test('small messages still go maxBatch at a time', async () => {
  const sends: number[][] = [];
  const p = new BatchingProducer(fakeKafka(sends), { logger: silent, maxBatch: 3, lingerMs: 1 });
  p.enqueue('t', Array.from({ length: 7 }, () => ({ key: 'k', value: Buffer.alloc(5) })));
  await p.flush();
  assert.deepEqual(sends.map((s) => s.length), [3, 3, 1]);
});
