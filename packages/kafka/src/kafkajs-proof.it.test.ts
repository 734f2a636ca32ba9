/**
 * Proof that kafkajs 2.2.4 works against the Kafka 4.x broker this project runs (KRaft,
 * classic group and transaction protocols): the features every service depends on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel, type Admin, type Consumer, type EachMessagePayload } from 'kafkajs';
import { getTestStack, uniqueId, uniqueTopic } from '@cvd/test-kit';

let kafka: Kafka;
let admin: Admin;
const consumers: Consumer[] = [];

before(async () => {
  const stack = await getTestStack();
  kafka = new Kafka({ clientId: 'proof', brokers: [stack.brokers], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)));
  await admin?.disconnect();
});

function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 100);
    };
    tick();
  });
}

async function consumeAll(topic: string, expected: number, opts: { readUncommitted?: boolean } = {}): Promise<EachMessagePayload[]> {
  const consumer = kafka.consumer({ groupId: uniqueId('proof-read'), readUncommitted: opts.readUncommitted ?? false });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: EachMessagePayload[] = [];
  await consumer.run({ eachMessage: async (p) => void got.push(p) });
  await waitFor(() => got.length >= expected, 30_000, `${expected} messages on ${topic}`);
  // Give a straggler (a duplicate, an aborted record) the chance to show up before we judge.
  await new Promise((r) => setTimeout(r, 1000));
  await consumer.disconnect();
  return got;
}

describe('kafkajs against the real broker', () => {
  test('createTopics with cleanup.policy=compact, and a second create reports it exists', async () => {
    const topic = uniqueTopic('proof.compact');
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    });
    assert.equal(created, true);
    const again = await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    assert.equal(again, false);
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ['cleanup.policy'] }],
    });
    assert.equal(resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue, 'compact');
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(meta.topics[0]?.partitions.length, 3);
  });

  test('idempotent producer: every message once, in order per key', async () => {
    const topic = uniqueTopic('proof.idem');
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const n = 500;
    for (let batch = 0; batch < 5; batch++) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: n / 5 }, (_, i) => ({ key: `k${(batch * 100 + i) % 4}`, value: String(batch * 100 + i) })),
      });
    }
    await producer.disconnect();
    const got = await consumeAll(topic, n);
    assert.equal(got.length, n);
    const values = got.map((m) => Number(m.message.value?.toString()));
    assert.equal(new Set(values).size, n, 'no duplicates');
    for (const key of ['k0', 'k1', 'k2', 'k3']) {
      const seq = got.filter((m) => m.message.key?.toString() === key).map((m) => Number(m.message.value?.toString()));
      assert.deepEqual(seq, [...seq].sort((a, b) => a - b), `order kept for ${key}`);
    }
  });

  test('a consumer group of two members shares the partitions, each message consumed once', async () => {
    const topic = uniqueTopic('proof.group');
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6 }] });
    const groupId = uniqueId('proof-group');
    const assigned = new Map<string, number[]>();
    const seen: { member: string; value: string }[] = [];
    const members = ['m1', 'm2'];
    for (const member of members) {
      const c = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500 });
      consumers.push(c);
      c.on(c.events.GROUP_JOIN, (e) => {
        assigned.set(member, e.payload.memberAssignment[topic] ?? []);
      });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachMessage: async ({ message }) => void seen.push({ member, value: message.value!.toString() }) });
    }
    await waitFor(
      () => members.every((m) => (assigned.get(m)?.length ?? 0) > 0) && [...assigned.values()].flat().length === 6,
      60_000,
      'both members assigned',
    );
    const parts = [...assigned.values()].flat().sort();
    assert.deepEqual(parts, [0, 1, 2, 3, 4, 5], 'partitions split between the members, none twice');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 60 }, (_, i) => ({ key: `key-${i}`, value: String(i) })) });
    await producer.disconnect();
    await waitFor(() => seen.length >= 60, 30_000, '60 messages');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(seen.length, 60);
    assert.equal(new Set(seen.map((s) => s.value)).size, 60);
    assert.ok(new Set(seen.map((s) => s.member)).size === 2, 'both members consumed');
  });

  test('transaction with sendOffsets: read-committed readers see only committed data, offsets commit atomically', async () => {
    const input = uniqueTopic('proof.tx-in');
    const output = uniqueTopic('proof.tx-out');
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: 1 }, { topic: output, numPartitions: 1 }] });
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: input, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await plain.disconnect();

    const groupId = uniqueId('proof-tx');
    const producer = kafka.producer({ transactionalId: uniqueId('proof-txid'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();

    // Committed: transform the first two input records, commit offset 2 with them.
    const tx = await producer.transaction();
    await tx.send({ topic: output, messages: [{ value: 'A' }, { value: 'B' }] });
    await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '2' }] }] });
    await tx.commit();

    // Aborted: neither its record nor its offset may become visible.
    const aborted = await producer.transaction();
    await aborted.send({ topic: output, messages: [{ value: 'C-aborted' }] });
    await aborted.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '3' }] }] });
    await aborted.abort();
    await producer.disconnect();

    const committedView = await consumeAll(output, 2);
    assert.deepEqual(committedView.map((m) => m.message.value?.toString()), ['A', 'B']);
    const uncommittedView = await consumeAll(output, 3, { readUncommitted: true });
    assert.deepEqual(uncommittedView.map((m) => m.message.value?.toString()), ['A', 'B', 'C-aborted']);

    const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
    assert.equal(offsets[0]?.partitions[0]?.offset, '2', 'only the committed transaction moved the group offset');
  });
});
