import { Backoff, CvdError, retry } from '@cvd/core';

/** "Not yet": the one retriable outcome of a poll; never leaves {@link pollUntil}. */
class NotReady extends CvdError<'not-ready'> {
  constructor() {
    super('not-ready', 'condition not met yet', { retriable: true });
  }
}

export interface PollOptions {
  /** Steady pause between checks (no jitter: one local process, nobody to spread). */
  readonly intervalMs: number;
  /** Stop checking once this long has passed since the first check. @defaultValue Infinity */
  readonly timeoutMs?: number;
  /** Stop after this many checks. @defaultValue Infinity */
  readonly maxChecks?: number;
}

/**
 * Checks `ready` until it answers true (→ true) or the time or checks run out (→ false), with
 * the project's one `retry` at a steady pace. An error thrown by `ready` (a server that
 * exited) ends the poll at once and propagates.
 */
export async function pollUntil(ready: () => boolean | Promise<boolean>, options: PollOptions): Promise<boolean> {
  try {
    await retry(
      async () => {
        if (!(await ready())) throw new NotReady();
      },
      {
        backoff: new Backoff({ initialMs: options.intervalMs, multiplier: 1, jitter: false }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.maxChecks === undefined ? {} : { maxAttempts: options.maxChecks }),
        shouldRetry: (err) => err instanceof NotReady,
      },
    );
    return true;
  } catch (err) {
    if (err instanceof NotReady) return false;
    throw err;
  }
}
