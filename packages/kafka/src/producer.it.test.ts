/**
 * Issue 12, failure 2: a send the broker can never accept is not retried forever. On the real
 * broker, topics with `max.message.bytes` = 2000: big records are isolated and refused (reason
 * `too-large`) while the others are delivered in order, a big header counts toward the cap,
 * a refused dead letter is truncated once and then dropped, and every flush completes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createLogger } from '@cvd/common';
import { getTestStack, uniqueId, uniqueTopic } from '@cvd/test-kit';
import { createKafka } from './client.js';
import { BatchingProducer, type QueuedRecord } from './producer.js';
import { followTopic } from './reader.js';
import { refusedDeadLetter, type RefusalReason } from './refusal.js';
import type { Kafka } from 'kafkajs';

const CAP = 2000;
let kafka: Kafka;
const logger = createLogger({ service: 'test', level: 'fatal' });
const producers: BatchingProducer[] = [];

before(async () => {
  const stack = await getTestStack();
  kafka = createKafka({ brokers: [stack.brokers], clientId: uniqueId('refusal') }, logger);
});
after(async () => {
  for (const p of producers) await p.close(2_000);
});

async function smallTopic(prefix: string): Promise<string> {
  const topic = uniqueTopic(prefix);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: -1, configEntries: [{ name: 'max.message.bytes', value: String(CAP) }] }],
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** Fails instead of hanging: the old producer retried a refused send forever. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not complete within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

async function values(topic: string): Promise<{ value: string; headers: Record<string, string> }[]> {
  const out: { value: string; headers: Record<string, string> }[] = [];
  const follower = await followTopic(kafka, {
    topic,
    groupPrefix: 'refusal-read',
    onRecords: (records) => {
      for (const r of records) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(r.headers ?? {})) headers[k] = String(v);
        out.push({ value: r.value?.toString('latin1') ?? '', headers });
      }
    },
  });
  await follower.caughtUp;
  await follower.stop();
  return out;
}

test('records over max.message.bytes are refused alone (too-large) and dead-lettered truncated; the others are delivered in order; the flush completes', { timeout: 120_000 }, async () => {
  const topic = await smallTopic('refusal.data');
  const dlq = await smallTopic('refusal.dlq');
  const rejected: { topic: string; reason: RefusalReason; bytes: number }[] = [];
  const dropped: QueuedRecord[] = [];
  const producer = new BatchingProducer(kafka, {
    logger,
    lingerMs: 50,
    onRejected: (records, reason) => {
      const follow: QueuedRecord[] = [];
      for (const r of records) {
        rejected.push({ topic: r.topic, reason, bytes: r.message.value?.length ?? 0 });
        const dead = refusedDeadLetter(r.topic, r.message, reason, { isDeadLetter: r.topic === dlq });
        if (dead === undefined) dropped.push(r);
        else follow.push({ topic: dlq, message: dead });
      }
      return follow;
    },
  });
  producers.push(producer);
  await producer.connect();
  const small = (i: number): { key: string; value: Buffer } => ({ key: 'k', value: Buffer.from(`small-${i}-`.padEnd(300, '.'), 'latin1') });
  const batch = [
    small(0),
    small(1),
    { key: 'k', value: Buffer.alloc(5000, 'A') },
    small(2),
    small(3),
    small(4),
    // A small value whose header alone is over the cap.
    { key: 'k', value: Buffer.from('with-a-big-header'), headers: { detail: 'h'.repeat(2500) } },
    small(5),
    { key: 'k', value: Buffer.alloc(3000, 'B') },
    small(6),
  ];
  producer.enqueue(topic, batch);
  await within(producer.flush(), 60_000, 'flush');
  // A dead letter whose key alone is over the cap: truncating the value cannot save it. (Sent on
  // its own: a refused request that spans partitions may have appended the other partitions'
  // records, which the split then sends again — at least once, not exactly once.)
  producer.enqueue(dlq, [{ key: 'x'.repeat(2500), value: Buffer.alloc(100), headers: { reason: 'invalid-json' } }]);
  await within(producer.flush(), 30_000, 'flush of the dead letters');

  assert.deepEqual(
    (await values(topic)).map((r) => r.value.slice(0, 8)),
    [0, 1, 2, 3, 4, 5, 6].map((i) => `small-${i}-`.slice(0, 8)),
    'every small record once, in order',
  );
  assert.deepEqual(
    rejected.filter((r) => r.topic === topic).map((r) => [r.reason, r.bytes]),
    [
      ['too-large', 5000],
      ['too-large', 17],
      ['too-large', 3000],
    ],
  );
  assert.ok(producer.refusedSends >= 3);
  const dead = await values(dlq);
  assert.equal(dead.length, 3, 'the three refused records, dead-lettered');
  for (const d of dead) {
    assert.equal(d.headers.reason, 'refused-too-large');
    assert.equal(d.headers['source-topic'], topic);
    assert.ok(d.value.length <= 1024);
  }
  assert.equal(dropped.length, 1, 'the dead letter refused twice is dropped, not retried');
  assert.equal(dropped[0]?.message.headers?.refused, 'too-large', 'after one truncated attempt');
  assert.equal(producer.buffered, 0);
});

test('headers count toward maxBatchBytes: records with big headers are never sent in a batch the broker refuses', { timeout: 120_000 }, async () => {
  const topic = await smallTopic('refusal.headers');
  const rejected: QueuedRecord[] = [];
  const producer = new BatchingProducer(kafka, { logger, lingerMs: 50, maxBatchBytes: CAP - 100, onRejected: (records) => void rejected.push(...records) });
  producers.push(producer);
  await producer.connect();
  // 100 bytes of value, 800 of header: by key + value ten of them fit in one send of 1900 bytes,
  // but the broker counts the headers (two records already exceed 2000 bytes).
  producer.enqueue(
    topic,
    Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: Buffer.from(`rec-${i}`.padEnd(100, '.')), headers: { detail: 'h'.repeat(800) } })),
  );
  await within(producer.flush(), 60_000, 'flush');
  assert.equal(producer.refusedSends, 0, 'no send was refused');
  assert.deepEqual(rejected, []);
  assert.deepEqual(
    (await values(topic)).map((r) => r.value.slice(0, 5)),
    Array.from({ length: 10 }, (_, i) => `rec-${i}`.slice(0, 5)),
  );
});
