/**
 * The partitioned-consumer shell against a small in-memory fake of the kafkajs consumer
 * surface it uses (group events, run/eachBatch, seek, commit, pause, disconnect). The real
 * broker is exercised by the aggregator's integration tests.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EachBatchPayload } from 'kafkajs';
import { createLogger } from '@cvd/common';
import { PartitionedConsumer, type Checkpoint, type ConsumedRecord, type ConsumerFactory, type DecodedBatch, type PartitionedConsumerHandlers } from './partitioned-consumer.js';

const TOPIC = 'trades';
const logger = createLogger({ service: 'test', level: 'silent' });

class FakeConsumer {
  readonly events = { REBALANCING: 'rebalancing', GROUP_JOIN: 'group-join', CRASH: 'crash' };
  readonly seeks: { partition: number; offset: string }[] = [];
  readonly commits: { partition: number; offset: string }[][] = [];
  readonly log: string[] = [];
  heartbeats = 0;
  private readonly listeners = new Map<string, ((e: unknown) => void)[]>();
  private eachBatch: ((p: EachBatchPayload) => Promise<void>) | undefined;

  on(event: string, listener: (e: unknown) => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  async connect(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async run(config: { eachBatch: (p: EachBatchPayload) => Promise<void> }): Promise<void> {
    this.eachBatch = config.eachBatch;
  }
  seek(s: { topic: string; partition: number; offset: string }): void {
    this.seeks.push({ partition: s.partition, offset: s.offset });
  }
  async commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
    this.log.push('commit');
    this.commits.push(offsets.map((o) => ({ partition: o.partition, offset: o.offset })));
  }
  pause(): void {
    this.log.push('pause');
  }
  async disconnect(): Promise<void> {
    this.log.push('disconnect');
  }

  emit(event: string, payload: unknown): void {
    for (const l of this.listeners.get(event) ?? []) l({ payload });
  }
  assign(partitions: number[]): void {
    this.emit(this.events.REBALANCING, {});
    this.emit(this.events.GROUP_JOIN, { memberAssignment: { [TOPIC]: partitions } });
  }
  /** Delivers records `from..to-1` of a partition as one batch; returns the resolved offsets. */
  async deliver(partition: number, from: number, to: number, highWatermark = to): Promise<string[]> {
    const resolved: string[] = [];
    const messages = [];
    for (let o = from; o < to; o++) messages.push({ offset: String(o), key: Buffer.from('k'), value: Buffer.from(`v${o}`) });
    await this.eachBatch!({
      batch: { topic: TOPIC, partition, highWatermark: String(highWatermark), messages },
      resolveOffset: (o: string) => resolved.push(o),
      heartbeat: async () => {
        this.heartbeats++;
      },
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload);
    return resolved;
  }
}

interface State {
  nextOffset: bigint;
  values: string[];
}

/** A controllable sink: each write waits for `release()` unless `autoAck`. */
function harness(options: { restored?: Record<number, bigint>; maxPending?: number; drainTimeoutMs?: number } = {}) {
  const fake = new FakeConsumer();
  const kafka: ConsumerFactory = { consumer: () => fake as never };
  const written: string[][] = [];
  const checkpoints: Checkpoint[] = [];
  const sink = { autoAck: true, failures: 0, gate: undefined as undefined | Promise<void>, collectedFinal: [] as boolean[] };
  let pending: string[] = [];
  const handlers: PartitionedConsumerHandlers<State, string, string[], Checkpoint> = {
    restore: async (partitions) => new Map(partitions.map((p) => [p, { nextOffset: options.restored?.[p] ?? 0n, values: [] }])),
    decode: (r: ConsumedRecord) => `${r.partition}:${r.offset}:${r.value?.toString()}`,
    apply: (state: State, batch: DecodedBatch<string>) => {
      state.values.push(...batch.records);
      pending.push(...batch.records);
      state.nextOffset = batch.nextOffset;
    },
    pending: () => pending.length,
    collect: (partitions, { final }) => {
      sink.collectedFinal.push(final);
      const output = pending;
      pending = [];
      return { output, checkpoints: [...partitions].map(([partition, s]) => ({ partition, offset: s.nextOffset })) };
    },
    write: async (output) => {
      fake.log.push('write');
      if (sink.gate) await sink.gate;
      if (sink.failures > 0) {
        sink.failures--;
        throw new Error('sink down');
      }
      written.push(output);
    },
    checkpoint: async (c) => {
      fake.log.push(`checkpoint:${c.partition}@${c.offset}`);
      checkpoints.push(c);
    },
  };
  const shell = new PartitionedConsumer({
    kafka,
    topic: TOPIC,
    groupId: 'g',
    logger,
    handlers,
    flushIntervalMs: 1_000_000,
    maxPending: options.maxPending ?? 1_000_000,
    drainTimeoutMs: options.drainTimeoutMs,
    writeBackoff: { initialMs: 1, maxMs: 2 },
  });
  return { fake, shell, written, checkpoints, sink };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('PartitionedConsumer', () => {
  test('restores every assignment and seeks each partition to its restored offset', async () => {
    const { fake, shell } = harness({ restored: { 0: 5n, 2: 9n } });
    await shell.start();
    fake.assign([2, 0]);
    await settle();
    assert.deepEqual(fake.seeks, [{ partition: 0, offset: '5' }, { partition: 2, offset: '9' }]);
    assert.deepEqual([...shell.owned.keys()], [0, 2]);
    assert.deepEqual(shell.status().assigned, [0, 2]);
    await shell.stop();
  });

  test('skips records below the restored offset and seeks back when a batch starts past it', async () => {
    const { fake, shell } = harness({ restored: { 0: 3n } });
    await shell.start();
    fake.assign([0]);
    await settle();
    const resolved = await fake.deliver(0, 1, 5);
    assert.deepEqual(resolved, ['1', '2', '3', '4'], 'every fetched record is resolved');
    assert.deepEqual(shell.owned.get(0)?.values, ['0:3:v3', '0:4:v4'], 'only the records past the restored offset are applied');
    assert.equal(shell.owned.get(0)?.nextOffset, 5n);
    fake.seeks.length = 0;
    assert.deepEqual(await fake.deliver(0, 8, 10), [], 'a batch past nextOffset is not consumed');
    assert.deepEqual(fake.seeks, [{ partition: 0, offset: '5' }]);
    assert.equal(shell.owned.get(0)?.nextOffset, 5n);
    await shell.stop();
  });

  test('commits only after the sink acknowledged and the checkpoint is stored; a failing sink is retried', async () => {
    const { fake, shell, written, sink } = harness();
    await shell.start();
    fake.assign([0]);
    await settle();
    await fake.deliver(0, 0, 2);
    let release!: () => void;
    sink.gate = new Promise((r) => (release = r));
    sink.failures = 2;
    const flushed = shell.flush();
    await settle();
    assert.equal(fake.commits.length, 0, 'nothing committed while the sink has not acknowledged');
    release();
    await flushed;
    assert.deepEqual(written, [['0:0:v0', '0:1:v1']]);
    assert.deepEqual(fake.log, ['write', 'write', 'write', 'checkpoint:0@2', 'commit'], 'two failures retried, then checkpoint, then commit');
    assert.deepEqual(fake.commits, [[{ partition: 0, offset: '2' }]]);
    assert.equal(shell.status().lastWriteError, undefined);
    await shell.stop();
  });

  test('work started before a rebalance never checkpoints or commits', async () => {
    const { fake, shell, written, checkpoints, sink } = harness();
    await shell.start();
    fake.assign([0, 1]);
    await settle();
    await fake.deliver(0, 0, 3);
    let release!: () => void;
    sink.gate = new Promise((r) => (release = r));
    const flushed = shell.flush();
    await settle();
    fake.assign([1]); // partition 0 moved away while its rows were being written
    release();
    await flushed;
    assert.equal(written.length, 1, 'the rows are still written (the sink is idempotent)');
    assert.deepEqual(checkpoints, [], 'no checkpoint from the old epoch');
    assert.deepEqual(fake.commits, [], 'no commit from the old epoch');
    await settle();
    assert.deepEqual([...shell.owned.keys()], [1], 'the new assignment was restored');
    await shell.stop();
  });

  test('a batch arriving with maxPending work waits for a flush, with heartbeats', async () => {
    const { fake, shell, written } = harness({ maxPending: 3 });
    await shell.start();
    fake.assign([0]);
    await settle();
    await fake.deliver(0, 0, 2);
    assert.equal(written.length, 0, 'below maxPending: no flush');
    await fake.deliver(0, 2, 4);
    assert.deepEqual(written, [['0:0:v0', '0:1:v1', '0:2:v2', '0:3:v3']]);
    assert.deepEqual(fake.commits, [[{ partition: 0, offset: '4' }]]);
    assert.ok(fake.heartbeats >= 1);
    await shell.stop();
  });

  test('stop: pause, final flush with every checkpoint, commit, disconnect; idempotent', async () => {
    const { fake, shell, sink } = harness();
    await shell.start();
    fake.assign([0]);
    await settle();
    await fake.deliver(0, 0, 1);
    await Promise.all([shell.stop(), shell.stop()]);
    assert.deepEqual(sink.collectedFinal, [true]);
    assert.deepEqual(fake.log, ['pause', 'write', 'checkpoint:0@1', 'commit', 'disconnect']);
    assert.equal(shell.status().stopping, true);
  });

  test('stop is bounded: a sink that keeps failing is given up after the drain timeout, without a commit', async () => {
    const { fake, shell, sink, checkpoints } = harness({ drainTimeoutMs: 30 });
    await shell.start();
    fake.assign([0]);
    await settle();
    await fake.deliver(0, 0, 1);
    sink.failures = Number.POSITIVE_INFINITY;
    await shell.stop();
    assert.ok(fake.log.filter((l) => l === 'write').length > 1, 'retried meanwhile');
    assert.deepEqual(checkpoints, []);
    assert.deepEqual(fake.commits, []);
    assert.equal(fake.log.at(-1), 'disconnect');
    assert.equal(shell.status().lastWriteError, 'sink down');
  });
});

