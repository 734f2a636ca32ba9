import { Backoff, retry } from '@cvd/common';

/** kafkajs marks transient conditions (no leader yet, coordinator loading, …) `retriable`. */
export function isRetriableKafkaError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

/**
 * Runs a Kafka admin/metadata call, retrying retriable errors with backoff for up to
 * `timeoutMs` — right after a topic is created or a broker restarts, leadership takes a moment
 * to settle and a service must not die of it. The project's one `retry`, with kafkajs's own
 * `retriable` flag deciding (its errors are not `CvdError`s).
 */
export async function withKafkaRetry<T>(fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
  return retry(() => fn(), {
    backoff: new Backoff({ initialMs: 100, maxMs: 2_000 }),
    timeoutMs: options.timeoutMs ?? 60_000,
    shouldRetry: isRetriableKafkaError,
  });
}
