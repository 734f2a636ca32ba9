/**
 * The pipeline's one rule for records Kafka refused for good (see `BatchingProducer.onRejected`):
 * a record of any topic becomes a truncated dead letter; a refused dead letter is truncated
 * once, and dropped when even that is refused. Every record is counted by outcome and logged at
 * error — never retried.
 */
import type { Logger } from '@cvd/common';
import type { QueuedRecord } from './producer.js';
import { recordBytes, refusedDeadLetter, type RefusalReason } from './refusal.js';

/** What became of a refused record: `dead-lettered` (a record of another topic), `truncated` (a dead letter, sent again cut), `dropped`. */
export type RefusalOutcome = 'dead-lettered' | 'truncated' | 'dropped';

export interface DeadLetterOnRefusalOptions {
  readonly deadLetterTopic: string;
  readonly logger: Logger;
  /** Once per refused record, for the service's `…_producer_refused_total{topic, reason, outcome}`. */
  readonly count?: (topic: string, reason: RefusalReason, outcome: RefusalOutcome) => void;
}

/** An `onRejected` callback applying the rule above. */
export function deadLetterOnRefusal(o: DeadLetterOnRefusalOptions): (records: readonly QueuedRecord[], reason: RefusalReason, err: unknown) => QueuedRecord[] {
  return (records, reason, err) => {
    const follow: QueuedRecord[] = [];
    const outcomes: Record<RefusalOutcome, number> = { 'dead-lettered': 0, truncated: 0, dropped: 0 };
    for (const r of records) {
      const isDeadLetter = r.topic === o.deadLetterTopic;
      const dead = refusedDeadLetter(r.topic, r.message, reason, { isDeadLetter });
      const outcome: RefusalOutcome = dead === undefined ? 'dropped' : isDeadLetter ? 'truncated' : 'dead-lettered';
      if (dead !== undefined) follow.push({ topic: o.deadLetterTopic, message: dead });
      outcomes[outcome] += 1;
      o.count?.(r.topic, reason, outcome);
    }
    const first = records[0];
    o.logger.error(
      { err, reason, topic: first?.topic, records: records.length, bytes: first === undefined ? 0 : recordBytes(first.message), ...outcomes },
      outcomes.dropped > 0
        ? `Kafka refused a dead letter again (${reason}): dropped, not retried`
        : `Kafka refused ${records.length} record(s) for good (${reason}): written to ${o.deadLetterTopic}, truncated`,
    );
    return follow;
  };
}
