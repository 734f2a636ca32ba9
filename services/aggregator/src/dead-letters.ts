import type { OutMessage } from '@cvd/kafka';

/** Where a dead-lettered record came from (the `source-*` headers). */
export interface DeadLetterSource {
  topic: string;
  partition: number;
  /** `-1` when unknown (a trade rejected without a record behind it). */
  offset: string;
}

/**
 * A record for the dead-letter topic: the original key and value, and headers saying why
 * (`reason`, a kebab-case code), what failed (`detail`, cut to 500 characters) and where from.
 */
export function deadLetterMessage(key: Buffer | null, value: Buffer | null, reason: string, detail: string, source: DeadLetterSource): OutMessage {
  return {
    key: key ?? Buffer.alloc(0),
    value,
    headers: {
      reason,
      detail: detail.slice(0, 500),
      service: 'aggregator',
      'source-topic': source.topic,
      'source-partition': String(source.partition),
      'source-offset': source.offset,
    },
  };
}
