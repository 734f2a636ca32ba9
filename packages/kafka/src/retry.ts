import { Backoff, sleep } from '@cvd/common';

/** kafkajs marks transient conditions (no leader yet, coordinator loading, …) `retriable`. */
export function isRetriableKafkaError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

/**
 * Runs a Kafka admin/metadata call, retrying retriable errors with backoff for up to
 * `timeoutMs` — right after a topic is created or a broker restarts, leadership takes a moment
 * to settle and a service must not die of it.
 */
export async function withKafkaRetry<T>(fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const backoff = new Backoff({ initialMs: 100, maxMs: 2_000 });
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetriableKafkaError(err) || Date.now() >= deadline) throw err;
      await sleep(backoff.next());
    }
  }
}
