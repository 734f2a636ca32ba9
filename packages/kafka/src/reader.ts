import { randomBytes } from 'node:crypto';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { withKafkaRetry } from './retry.js';
import { KafkaError } from './errors.js';

export interface ReadRecord {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  timestamp: string;
}

const toRecord = (partition: number, m: KafkaMessage): ReadRecord => ({
  partition,
  offset: m.offset,
  key: m.key ?? null,
  value: m.value ?? null,
  headers: m.headers ?? {},
  timestamp: m.timestamp,
});

/** Low/high offsets per partition, retrying while leadership settles. */
export async function topicOffsets(kafka: Kafka, topic: string): Promise<{ partition: number; low: string; high: string; offset: string }[]> {
  return withKafkaRetry(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await admin.fetchTopicOffsets(topic);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  });
}

/** kafkajs has no manual partition assignment: readers use a private, never-committing group. */
const privateGroup = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

export interface TopicFollower {
  /** Resolves once every record that existed when following started has been delivered. */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Delivers every record of `topic` from the beginning, in order per partition, then keeps
 * following new records until `stop()`. Commits nothing: each start replays the topic, which
 * is what a compacted topic (the symbol set) is for.
 */
export async function followTopic(
  kafka: Kafka,
  options: {
    topic: string;
    groupPrefix: string;
    onRecords: (records: ReadRecord[]) => Promise<void> | void;
    maxBytesPerPartition?: number;
  },
): Promise<TopicFollower> {
  const offsets = await topicOffsets(kafka, options.topic);
  // Next offset to reach per partition before we call it caught up.
  const pending = new Map<number, bigint>();
  for (const o of offsets) if (BigInt(o.high) > BigInt(o.low)) pending.set(o.partition, BigInt(o.high));
  let markCaughtUp!: () => void;
  const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
  const check = (): void => {
    if (pending.size === 0) markCaughtUp();
  };
  check();
  const consumer = kafka.consumer({
    groupId: privateGroup(options.groupPrefix),
    maxBytesPerPartition: options.maxBytesPerPartition ?? 8 * 1024 * 1024,
    maxWaitTimeInMs: 250,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      const records = batch.messages.map((m) => toRecord(batch.partition, m));
      if (records.length) await options.onRecords(records);
      const target = pending.get(batch.partition);
      const last = records.at(-1);
      if (target !== undefined && last && BigInt(last.offset) + 1n >= target) {
        pending.delete(batch.partition);
        check();
      }
    },
  });
  // An empty partition below the high watermark (all records compacted away at the tail, or
  // transaction markers only) never yields a batch; a fetch of nothing still means "done".
  const poll = setInterval(() => {
    void (async () => {
      if (pending.size === 0) return clearInterval(poll);
      const a = kafka.admin();
      try {
        await a.connect();
        const now = await a.fetchTopicOffsets(options.topic);
        for (const o of now) if (BigInt(o.high) === BigInt(o.low)) pending.delete(o.partition);
        check();
      } catch {
        /* next tick */
      } finally {
        await a.disconnect().catch(() => undefined);
      }
    })();
  }, 2000);
  let stopped: Promise<void> | undefined;
  return {
    caughtUp,
    stop: () =>
      (stopped ??= (async () => {
        clearInterval(poll);
        await consumer.disconnect();
      })()),
  };
}

/** Reads a whole (compacted) topic up to its current end: latest value per key; null = tombstone. */
export async function readCompacted(kafka: Kafka, topic: string, groupPrefix = 'cvd-read'): Promise<Map<string, ReadRecord>> {
  const latest = new Map<string, ReadRecord>();
  const follower = await followTopic(kafka, {
    topic,
    groupPrefix,
    onRecords: (records) => {
      for (const r of records) if (r.key) latest.set(r.key.toString('utf8'), r);
    },
  });
  await follower.caughtUp;
  await follower.stop();
  return latest;
}

/** How a {@link readTail} ended. */
export interface TailRead {
  /** Every partition was read to its end (false: the timeout struck first). */
  complete: boolean;
  /** Partitions not read to their end. */
  partitionsLeft: number;
}

/**
 * Delivers the last `records` records of each partition (of `partitions`, or all) as they
 * were when reading started, in order per partition. Seeks straight to the tail, so the cost
 * does not grow with the topic. Resolves on reaching every partition's end, or with
 * `complete: false` once `timeoutMs` passed.
 */
export async function readTail(
  kafka: Kafka,
  topic: string,
  options: {
    records: number;
    onRecord: (record: ReadRecord) => void;
    partitions?: readonly number[];
    groupPrefix?: string;
    /** @defaultValue 60000 */
    timeoutMs?: number;
    /** @defaultValue 64 MiB */
    maxBytesPerPartition?: number;
  },
): Promise<TailRead> {
  const targets = new Map<number, { from: bigint; end: bigint }>();
  if (options.records <= 0) return { complete: true, partitionsLeft: 0 };
  for (const o of await topicOffsets(kafka, topic)) {
    if (options.partitions && !options.partitions.includes(o.partition)) continue;
    const high = BigInt(o.high);
    const low = BigInt(o.low);
    if (high <= low) continue;
    const from = high - BigInt(options.records) > low ? high - BigInt(options.records) : low;
    targets.set(o.partition, { from, end: high - 1n });
  }
  if (targets.size === 0) return { complete: true, partitionsLeft: 0 };
  const consumer = kafka.consumer({
    groupId: privateGroup(options.groupPrefix ?? 'cvd-tail'),
    maxBytesPerPartition: options.maxBytesPerPartition ?? 64 * 1024 * 1024,
    maxWaitTimeInMs: 100,
  });
  const remaining = new Set(targets.keys());
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const target = targets.get(batch.partition);
        if (!target || !remaining.has(batch.partition)) return;
        for (const m of batch.messages) {
          const off = BigInt(m.offset);
          if (off >= target.from && off <= target.end) options.onRecord(toRecord(batch.partition, m));
          // The tail record normally sits at end, but a compacted or aborted tail may leave a
          // gap, so "reached the end" is offset >= end (or the batch's own high watermark).
          if (off >= target.end || BigInt(batch.highWatermark) - 1n <= off) {
            remaining.delete(batch.partition);
            if (remaining.size === 0) done();
            break;
          }
        }
      },
    });
    for (const [partition, t] of targets) consumer.seek({ topic, partition, offset: t.from.toString() });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      finished.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), options.timeoutMs ?? 60_000))),
    ]).finally(() => clearTimeout(timer));
    return { complete: !timedOut, partitionsLeft: remaining.size };
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

/**
 * The last record of each given partition (e.g. the newest snapshot), or none for an empty
 * partition. Throws if the partitions cannot be read to their end within `timeoutMs`.
 */
export async function readLastRecords(
  kafka: Kafka,
  topic: string,
  partitions: number[],
  options: { groupPrefix?: string; timeoutMs?: number } = {},
): Promise<Map<number, ReadRecord>> {
  const result = new Map<number, ReadRecord>();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const read = await readTail(kafka, topic, {
    records: 1,
    partitions,
    groupPrefix: options.groupPrefix ?? 'cvd-last',
    timeoutMs,
    // Newest wins: the tail record is normally the only one delivered.
    onRecord: (r) => result.set(r.partition, r),
  });
  if (!read.complete) throw new KafkaError('timeout', `reading the last records of ${topic} timed out after ${timeoutMs} ms`);
  return result;
}
