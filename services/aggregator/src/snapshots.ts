import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import { readLastRecords, Sender, type Kafka } from '@cvd/kafka';
import { deserializeState, type EngineState } from '@cvd/engine';
import type { Logger } from '@cvd/common';

export const SNAPSHOT_FORMAT = 'cvd-aggregator-snapshot/1';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

export interface Snapshot {
  /** Next trades offset to process: the state reflects exactly the records below it. */
  nextOffset: bigint;
  state: EngineState;
  bytes: number;
}

/**
 * Partition snapshots in a compacted Kafka topic: the snapshot of trades partition p is the
 * newest record of state partition p, keyed `group|topic|p`. Restoring reads one record.
 *
 * The value is the engine state JSON, gzipped here (zlib's thread pool, off the event loop)
 * and marked `content-encoding: gzip`, sent uncompressed: kafkajs then copies and checksums
 * only the compressed bytes on the event loop, not the whole JSON. A value without the header
 * (written by earlier versions, gzipped by Kafka) is plain JSON and restores as well.
 */
export class SnapshotStore {
  private readonly sender: Sender;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: { stateTopic: string; tradesTopic: string; groupId: string; logger: Logger },
  ) {
    this.sender = new Sender(kafka, { compression: 'none' });
  }

  private key(partition: number): string {
    return `${this.opts.groupId}|${this.opts.tradesTopic}|${partition}`;
  }

  connect(): Promise<void> {
    return this.sender.connect();
  }

  /** Rejects when Kafka does not acknowledge: the offset is then not committed and a later flush snapshots again. */
  async write(partition: number, nextOffset: bigint, stateJson: Buffer | string): Promise<void> {
    const value = await gzip(typeof stateJson === 'string' ? Buffer.from(stateJson, 'utf8') : stateJson);
    await this.sender.send(this.opts.stateTopic, [
      {
        partition,
        key: this.key(partition),
        value,
        headers: {
          format: SNAPSHOT_FORMAT,
          'content-encoding': 'gzip',
          'next-offset': nextOffset.toString(),
          'trades-topic': this.opts.tradesTopic,
        },
      },
    ]);
  }

  /** Newest snapshot per partition; partitions without one are absent. A corrupt one is logged and skipped. */
  async readMany(partitions: number[]): Promise<Map<number, Snapshot>> {
    const out = new Map<number, Snapshot>();
    if (partitions.length === 0) return out;
    const records = await readLastRecords(this.kafka, this.opts.stateTopic, partitions, { groupPrefix: `${this.opts.groupId}-restore` });
    for (const [partition, rec] of records) {
      const key = rec.key?.toString('utf8');
      const format = rec.headers.format?.toString();
      const next = rec.headers['next-offset']?.toString();
      if (key !== this.key(partition) || format !== SNAPSHOT_FORMAT || !next || !rec.value) {
        this.opts.logger.error({ partition, key, format }, 'newest record of the state partition is not our snapshot; starting this partition from the beginning');
        continue;
      }
      try {
        const json = rec.headers['content-encoding']?.toString() === 'gzip' ? await gunzip(rec.value) : rec.value;
        out.set(partition, { nextOffset: BigInt(next), state: deserializeState(json.toString('utf8')), bytes: json.length });
      } catch (err) {
        this.opts.logger.error({ err, partition }, 'snapshot is corrupt; starting this partition from the beginning');
      }
    }
    return out;
  }

  close(): Promise<void> {
    return this.sender.close();
  }
}
