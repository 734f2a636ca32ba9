/**
 * CVD anchors from the compacted `cvd.symbols.v1` topic (`SymbolConfig.anchorCvd`). Read to
 * the end before the aggregator consumes trades, then followed. An anchor set at
 * `updatedAtMs` takes effect from the next minute on: the symbol's first bar at or after
 * that minute opens at the anchor value. Tied to the record's time, not to when it arrives,
 * so a restore plus replay gives the bars of an uninterrupted run; the engine state (and so
 * the snapshot) keeps the anchor, and setting the same value again changes nothing.
 */
import type { Logger } from '@cvd/common';
import { symbolKey } from '@cvd/core';
import { MINUTE_MS, minuteOf } from '@cvd/engine';
import { followTopic, type Kafka, type ReadRecord, type TopicFollower } from '@cvd/kafka';
import { decodeSymbolConfig } from '@cvd/schemas';

/** An anchor as the engine takes it: `cvd` from minute `fromMs` on. */
export interface Anchor {
  readonly key: string;
  readonly cvd: string;
  readonly fromMs: number;
}

/** The anchor a symbols-topic record carries, or undefined (tombstone, no anchor, undecodable). */
export function anchorOf(record: Pick<ReadRecord, 'value'>): Anchor | undefined {
  if (record.value === null) return undefined;
  const r = decodeSymbolConfig(record.value);
  if (!r.ok) return undefined;
  const c = r.value;
  if (c.anchorCvd === null) return undefined;
  return { key: symbolKey(c.market, c.symbol), cvd: c.anchorCvd, fromMs: minuteOf(c.updatedAtMs) + MINUTE_MS };
}

export class AnchorFeed {
  /** Latest anchor per symbol. A removed anchor only stops further ones: history keeps its CVD. */
  private readonly latest = new Map<string, Anchor>();
  private follower: TopicFollower | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly o: { topic: string; groupId: string; logger: Logger; onAnchor: (anchor: Anchor) => void },
  ) {}

  /** Resolves once every record the topic held at the start has been read. */
  async start(): Promise<void> {
    this.follower = await followTopic(this.kafka, {
      topic: this.o.topic,
      groupPrefix: `${this.o.groupId}-anchors`,
      onRecords: (records) => {
        for (const r of records) this.take(r);
      },
    });
    await this.follower.caughtUp;
  }

  private take(record: ReadRecord): void {
    const key = record.key?.toString('utf8');
    if (!key) return;
    const anchor = anchorOf(record);
    if (!anchor) {
      this.latest.delete(key);
      return;
    }
    const previous = this.latest.get(key);
    if (previous?.cvd === anchor.cvd && previous.fromMs === anchor.fromMs) return;
    this.latest.set(key, anchor);
    this.o.logger.info({ symbol: key, anchorCvd: anchor.cvd, fromMs: anchor.fromMs }, 'CVD anchor');
    this.o.onAnchor(anchor);
  }

  /** The latest anchor of every symbol (applied to each restored partition). */
  all(): Iterable<Anchor> {
    return this.latest.values();
  }

  stop(): Promise<void> {
    return this.follower?.stop() ?? Promise.resolve();
  }
}
