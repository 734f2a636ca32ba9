import { randomBytes } from 'node:crypto';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { withKafkaRetry } from './retry.js';

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

/**
 * The last record of each given partition (e.g. the newest snapshot), or none for an empty
 * partition. Seeks straight to `high - 1`, so the cost does not grow with the topic.
 */
export async function readLastRecords(
  kafka: Kafka,
  topic: string,
  partitions: number[],
  options: { groupPrefix?: string; timeoutMs?: number } = {},
): Promise<Map<number, ReadRecord>> {
  const result = new Map<number, ReadRecord>();
  const offsets = await topicOffsets(kafka, topic);
  const targets = new Map<number, { low: bigint; last: bigint }>();
  for (const o of offsets) {
    if (!partitions.includes(o.partition)) continue;
    const high = BigInt(o.high);
    const low = BigInt(o.low);
    if (high > low) targets.set(o.partition, { low, last: high - 1n });
  }
  if (targets.size === 0) return result;
  const consumer = kafka.consumer({
    groupId: privateGroup(options.groupPrefix ?? 'cvd-last'),
    maxBytesPerPartition: 64 * 1024 * 1024,
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
        if (!target) return;
        for (const m of batch.messages) {
          const off = BigInt(m.offset);
          // Keep the newest record seen; the tail record normally sits at high-1, but a
          // compacted or aborted tail may leave a gap, so "reached the end" is offset >= last.
          if (off <= target.last) result.set(batch.partition, toRecord(batch.partition, m));
          if (off >= target.last || BigInt(batch.highWatermark) - 1n <= off) {
            remaining.delete(batch.partition);
            if (remaining.size === 0) done();
          }
        }
      },
    });
    for (const [partition, t] of targets) consumer.seek({ topic, partition, offset: t.last.toString() });
    const timeoutMs = options.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      finished,
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`reading the last records of ${topic} timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    return result;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
