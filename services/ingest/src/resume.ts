/**
 * Restart memory: the last aggTrade id this pipeline published per (market, symbol), read from
 * the tail of the trades topic (the last `tailRecords` records of every partition). With it,
 * the first frame after a restart reveals the hole since the previous run and it is
 * backfilled like any other. Symbols whose last trade lies further back than the tail start
 * afresh (the aggregator still dedupes and records the hole).
 */
import type { Logger } from '@cvd/common';
import { readTail, type Kafka } from '@cvd/kafka';
import { decodeTradeRecord } from '@cvd/schemas';

/** `market:SYMBOL` → highest aggId found in the tail. */
export async function lastPublishedIds(
  kafka: Kafka,
  topic: string,
  options: { readonly tailRecords: number; readonly timeoutMs: number; readonly logger: Logger },
): Promise<Map<string, number>> {
  const last = new Map<string, number>();
  let undecodable = 0;
  const read = await readTail(kafka, topic, {
    records: options.tailRecords,
    groupPrefix: 'cvd-ingest-resume',
    timeoutMs: options.timeoutMs,
    maxBytesPerPartition: 1024 * 1024,
    onRecord: (record) => {
      const r = record.value === null ? undefined : decodeTradeRecord(record.value);
      if (r?.ok !== true) {
        undecodable += 1;
        return;
      }
      for (const t of r.value) {
        const k = `${t.market}:${t.symbol}`;
        if ((last.get(k) ?? -1) < t.aggId) last.set(k, t.aggId);
      }
    },
  });
  if (!read.complete) options.logger.warn({ topic, timeoutMs: options.timeoutMs, partitionsLeft: read.partitionsLeft }, 'reading the tail of the trades topic timed out: resuming with what was read');
  if (undecodable > 0) options.logger.warn({ topic, undecodable }, 'undecodable records in the trades topic tail');
  return last;
}
