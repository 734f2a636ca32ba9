import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs, { type Kafka } from 'kafkajs';
import { BatchingProducer, type QueuedRecord } from './producer.js';
import { recordBytes, refusalReason, refusedDeadLetter, type RefusalReason } from './refusal.js';
import type { OutMessage } from './sender.js';

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } } as unknown as ConstructorParameters<typeof BatchingProducer>[1]['logger'];

type Msg = { key: string; value: Buffer | null; headers?: Record<string, string> };
/** A fake kafkajs: `refuse` decides per send (throws what it returns), `sends` records the acknowledged ones. */
function fakeKafka(sends: number[][], refuse: (messages: Msg[]) => Error | undefined = () => undefined, producers = { created: 0 }): Kafka {
  return {
    producer: () => {
      producers.created += 1;
      return {
        connect: async () => undefined,
        disconnect: async () => undefined,
        sendBatch: async (b: { topicMessages: { messages: Msg[] }[] }) => {
          const all = b.topicMessages.flatMap((t) => t.messages);
          const err = refuse(all);
          if (err) throw err;
          sends.push(all.map((m) => m.value?.length ?? 0));
          return [];
        },
      };
    },
  } as unknown as Kafka;
}

/** What kafkajs 2.2.4's retrier throws for a non-retriable protocol error: the error wrapped, `cause` set. */
function brokerRefusal(type: string, retriable = false): Error {
  const { KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } = kafkajs;
  const inner = new KafkaJSProtocolError({ type, code: 10, retriable, message: `broker says ${type}` } as unknown as Error);
  type Wrapper = new (e: Error, meta: Record<string, unknown>) => Error;
  return retriable
    ? new (KafkaJSNumberOfRetriesExceeded as unknown as Wrapper)(inner, { retryCount: 5, retryTime: 100 })
    : new (KafkaJSNonRetriableError as unknown as Wrapper)(inner, { cause: inner });
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

test('headers and per-record framing count toward maxBatchBytes', async () => {
  const sends: number[][] = [];
  const p = new BatchingProducer(fakeKafka(sends), { logger: silent, maxBatchBytes: 2100, lingerMs: 1 });
  // 10 bytes of value, 600 bytes of header each: by key + value alone all 6 would fit in one send.
  const message = (): OutMessage => ({ key: 'k', value: Buffer.alloc(10), headers: { detail: 'x'.repeat(600) } });
  assert.ok(recordBytes(message()) > 600 + 10 + 'detail'.length);
  p.enqueue('t', Array.from({ length: 6 }, message));
  await p.flush();
  assert.deepEqual(sends.map((s) => s.length), [3, 3]);
});

test('a refused batch is halved until the refused record is alone; it goes to onRejected, the rest is delivered in order', async () => {
  const sends: number[][] = [];
  const producers = { created: 0 };
  // The broker refuses any send holding a value of 999 bytes.
  const kafka = fakeKafka(sends, (ms) => (ms.some((m) => m.value?.length === 999) ? brokerRefusal('MESSAGE_TOO_LARGE') : undefined), producers);
  const rejected: { records: readonly QueuedRecord[]; reason: RefusalReason }[] = [];
  const p = new BatchingProducer(kafka, { logger: silent, lingerMs: 1, onRejected: (records, reason) => void rejected.push({ records, reason }) });
  const sizes = [1, 2, 3, 999, 5, 6, 7, 999, 9];
  p.enqueue('t', sizes.map((n) => ({ key: 'k', value: Buffer.alloc(n) })));
  await p.flush();
  assert.deepEqual(sends.flat(), [1, 2, 3, 5, 6, 7, 9], 'every other record once, in order');
  assert.deepEqual(rejected.map((r) => [r.records.length, r.reason, r.records[0]?.message.value?.length]), [
    [1, 'too-large', 999],
    [1, 'too-large', 999],
  ]);
  assert.equal(p.buffered, 0);
  assert.ok(producers.created > 1, 'a refusal renews the producer id');
});

test('a topic-wide refusal rejects a one-topic batch at once (no record-by-record split)', async () => {
  const sends: number[][] = [];
  let attempts = 0;
  const kafka = fakeKafka(sends, () => {
    attempts += 1;
    return brokerRefusal('TOPIC_AUTHORIZATION_FAILED');
  });
  const rejected: [number, RefusalReason][] = [];
  const p = new BatchingProducer(kafka, { logger: silent, lingerMs: 1, onRejected: (records, reason) => void rejected.push([records.length, reason]) });
  p.enqueue('t', Array.from({ length: 50 }, () => ({ key: 'k', value: Buffer.alloc(5) })));
  await p.flush();
  assert.deepEqual(rejected, [[50, 'not-authorised']]);
  assert.equal(attempts, 1);
});

test('retriable failures are retried, but not forever: onGiveUp, and flush rejects with send-timeout', async () => {
  const sends: number[][] = [];
  let attempts = 0;
  const kafka = fakeKafka(sends, () => {
    attempts += 1;
    return Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true });
  });
  let gaveUp: Error | undefined;
  const p = new BatchingProducer(kafka, { logger: silent, lingerMs: 1, giveUpAfterMs: 300, onGiveUp: (err) => (gaveUp = err) });
  p.enqueue('t', [{ key: 'k', value: Buffer.alloc(5) }]);
  await assert.rejects(p.flush(), (err: unknown) => (err as { code?: string }).code === 'send-timeout' && /ECONNREFUSED/.test((err as Error).message));
  assert.ok(gaveUp, 'onGiveUp called');
  assert.ok(attempts >= 2, 'retried before giving up');
  assert.equal(p.buffered, 1, 'the record is not dropped silently: still queued for the log of close()');
  await p.close(50);
});

test('close() is bounded while the broker is unreachable', async () => {
  const kafka = fakeKafka([], () => Object.assign(new Error('unreachable'), { retriable: true }));
  const p = new BatchingProducer(kafka, { logger: silent, lingerMs: 1 });
  p.enqueue('t', [{ key: 'k', value: Buffer.alloc(5) }]);
  await p.close(100);
  assert.equal(p.buffered, 1);
});

test('refusalReason reads kafkajs errors, their causes and aggregates; retriable ones give undefined', () => {
  assert.equal(refusalReason(brokerRefusal('MESSAGE_TOO_LARGE')), 'too-large');
  assert.equal(refusalReason(brokerRefusal('RECORD_LIST_TOO_LARGE')), 'too-large');
  assert.equal(refusalReason(brokerRefusal('INVALID_RECORD')), 'invalid-record');
  assert.equal(refusalReason(brokerRefusal('CORRUPT_MESSAGE', true)), 'invalid-record');
  assert.equal(refusalReason(brokerRefusal('CLUSTER_AUTHORIZATION_FAILED')), 'not-authorised');
  assert.equal(refusalReason(brokerRefusal('INVALID_TOPIC_EXCEPTION')), 'invalid-topic');
  assert.equal(refusalReason({ name: 'KafkaJSAggregateError', errors: [new Error('x'), brokerRefusal('TRANSACTIONAL_ID_AUTHORIZATION_FAILED')] }), 'not-authorised');
  assert.equal(refusalReason(brokerRefusal('NOT_LEADER_FOR_PARTITION', true)), undefined);
  assert.equal(refusalReason(new Error('ECONNREFUSED')), undefined);
});

test('refusedDeadLetter truncates a refused record once; a refused dead letter of one is dropped', () => {
  const big: OutMessage = { key: 'spot:BTCUSDT', value: Buffer.alloc(5000, 1), headers: { reason: 'invalid-json', detail: 'd'.repeat(3000) } };
  const first = refusedDeadLetter('dlq', big, 'too-large', { isDeadLetter: true });
  assert.ok(first);
  assert.equal(first.value?.length, 1024);
  assert.equal(first.headers?.reason, 'invalid-json', 'a dead letter keeps its reason');
  assert.equal(first.headers?.refused, 'too-large');
  assert.equal(first.headers?.truncated, 'true');
  assert.ok(recordBytes(first) < 2000);
  assert.equal(refusedDeadLetter('dlq', first, 'too-large', { isDeadLetter: true }), undefined);
  const trade = refusedDeadLetter('trades', { key: 'spot:X', value: Buffer.alloc(10) }, 'invalid-record', { isDeadLetter: false });
  assert.equal(trade?.headers?.reason, 'refused-invalid-record');
  assert.equal(trade?.headers?.['source-topic'], 'trades');
});
