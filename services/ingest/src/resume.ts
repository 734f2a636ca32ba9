/**
 * Restart memory: the last aggTrade id this pipeline published per (market, symbol), read from
 * the tail of the trades topic (the last `tailRecords` records of every partition). With it,
 * the first frame after a restart reveals the hole since the previous run and it is
 * backfilled like any other. Symbols whose last trade lies further back than the tail start
 * afresh (the aggregator still dedupes and records the hole).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@cvd/common';
import { topicOffsets, type Kafka } from '@cvd/kafka';
import { decodeTradeRecord } from '@cvd/schemas';

/** `market:SYMBOL` → highest aggId found in the tail. */
export async function lastPublishedIds(
  kafka: Kafka,
  topic: string,
  options: { readonly tailRecords: number; readonly timeoutMs: number; readonly logger: Logger },
): Promise<Map<string, number>> {
  const last = new Map<string, number>();
  if (options.tailRecords <= 0) return last;
  const offsets = await topicOffsets(kafka, topic);
  const targets = new Map<number, { from: bigint; end: bigint }>();
  for (const o of offsets) {
    const high = BigInt(o.high);
    const low = BigInt(o.low);
    if (high <= low) continue;
    const from = high - BigInt(options.tailRecords) > low ? high - BigInt(options.tailRecords) : low;
    targets.set(o.partition, { from, end: high - 1n });
  }
  if (targets.size === 0) return last;

  const consumer = kafka.consumer({
    groupId: `cvd-ingest-resume-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs: 100,
  });
  const remaining = new Set(targets.keys());
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let undecodable = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const target = targets.get(batch.partition);
        if (target === undefined || !remaining.has(batch.partition)) return;
        for (const m of batch.messages) {
          const off = BigInt(m.offset);
          if (off < target.from) continue;
          const r = m.value === null ? undefined : decodeTradeRecord(m.value);
          if (r?.ok === true) {
            for (const t of r.value) {
              const k = `${t.market}:${t.symbol}`;
              if ((last.get(k) ?? -1) < t.aggId) last.set(k, t.aggId);
            }
          } else {
            undecodable += 1;
          }
          if (off >= target.end || BigInt(batch.highWatermark) - 1n <= off) {
            remaining.delete(batch.partition);
            if (remaining.size === 0) done();
          }
        }
      },
    });
    for (const [partition, t] of targets) consumer.seek({ topic, partition, offset: t.from.toString() });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      finished.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), options.timeoutMs))),
    ]).finally(() => clearTimeout(timer));
    if (timedOut) options.logger.warn({ topic, timeoutMs: options.timeoutMs, partitionsLeft: remaining.size }, 'reading the tail of the trades topic timed out: resuming with what was read');
    if (undecodable > 0) options.logger.warn({ topic, undecodable }, 'undecodable records in the trades topic tail');
    return last;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
