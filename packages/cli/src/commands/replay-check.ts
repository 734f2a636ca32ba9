/**
 * The start-up check of `cvd run --sim --file …` (issue 12): a replay of history into a stack
 * that already holds newer trades (the demo ran in today's time, the file is from 2024) would
 * have every trade refused by the aggregator as `beyond-horizon` (its partitions' event-time
 * watermarks are past the file) and dead-lettered, and ingest would resume the demo's last ids
 * and see a hole of billions of ids. Instead `cvd run` refuses at start with one line naming
 * the cause and `cvd stack reset` (exit status 1).
 *
 * The check is cheap: the last record of every partition of the trades topic (`readTail`,
 * cost independent of the topic's size), compared with the file's first trade time. Any trade
 * at or after it means the bars could not be exactly the file's: refuse.
 */
import type { Logger } from '@cvd/common';
import { createKafka, readTail, type Kafka } from '@cvd/kafka';
import { decodeTradeRecord } from '@cvd/schemas';
import { CliFailure } from './data-args.js';

export interface NewestTrade {
  readonly market: string;
  readonly symbol: string;
  readonly tradeTimeMs: number;
  readonly partition: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Pure: the refusal line, or undefined when the replay may run. */
export function replayRefusal(fileFirstMs: number | undefined, newest: NewestTrade | undefined, topic: string): string | undefined {
  if (fileFirstMs === undefined || newest === undefined || newest.tradeTimeMs < fileFirstMs) return undefined;
  return (
    `cvd run: the stack already holds newer trades than the replay (${newest.market}:${newest.symbol} at ${iso(newest.tradeTimeMs)} in ${topic}; ` +
    `the file starts at ${iso(fileFirstMs)}), so the aggregator would drop every replayed trade as too old: ` +
    'run `npx cvd stack reset` (deletes every topic and table of this stack) and start the replay again'
  );
}

/** The newest trade (by trade time) among the last record of every partition of `topic`; undefined for a missing or empty topic. */
export async function newestTradeOnTopic(kafka: Kafka, topic: string, timeoutMs: number): Promise<NewestTrade | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  let newest: NewestTrade | undefined;
  await readTail(kafka, topic, {
    records: 1,
    groupPrefix: 'cvd-run-replay-check',
    timeoutMs,
    maxBytesPerPartition: 1024 * 1024,
    onRecord: (record) => {
      const r = record.value === null ? undefined : decodeTradeRecord(record.value);
      if (r?.ok !== true) return;
      for (const t of r.value) {
        if (newest === undefined || t.tradeTimeMs > newest.tradeTimeMs) newest = { market: t.market, symbol: t.symbol, tradeTimeMs: t.tradeTimeMs, partition: record.partition };
      }
    },
  });
  return newest;
}

/**
 * Throws `CliFailure('failed')` with the one-line refusal when the stack at `brokers` holds
 * trades at or after `fileFirstMs`. A stack that cannot be read within `timeoutMs` is reported
 * through `warn` and the run goes on (the aggregator then counts and warns about too-old trades).
 */
export async function refuseStaleReplay(o: { brokers: string; topic: string; fileFirstMs: number | undefined; logger: Logger; warn: (line: string) => void; timeoutMs?: number }): Promise<void> {
  if (o.fileFirstMs === undefined) return;
  const kafka = createKafka({ brokers: [o.brokers], clientId: 'cvd-run-replay-check', connectionTimeoutMs: 5_000, requestTimeoutMs: 10_000 }, o.logger);
  let newest: NewestTrade | undefined;
  try {
    newest = await newestTradeOnTopic(kafka, o.topic, o.timeoutMs ?? 15_000);
  } catch (err) {
    o.warn(`  could not read the tail of ${o.topic} to check for newer state (${(err as Error).message}); replaying anyway`);
    return;
  }
  const refusal = replayRefusal(o.fileFirstMs, newest, o.topic);
  if (refusal !== undefined) throw new CliFailure('failed', refusal);
}
