/**
 * Errors of the project's own Kafka layer. kafkajs's errors keep their own shape (their
 * `retriable` flag is read by {@link isRetriableKafkaError}); these are the conditions this
 * package itself detects.
 */
import { CvdError } from '@cvd/common';

export const KAFKA_ERROR_CODES = [
  /** A producer or sender used after `close()` or before `connect()`: a caller bug. */
  'not-connected',
  /** A bounded read (the tail of a topic) did not finish in time: the broker may be slow. */
  'timeout',
  /**
   * Sends kept failing with retriable errors (broker down, no leader, timeouts) for longer than
   * the producer's give-up time: the service reports it and exits non-zero so its supervisor
   * restarts it.
   */
  'send-timeout',
] as const;
export type KafkaErrorCode = (typeof KAFKA_ERROR_CODES)[number];

const RETRIABLE: Readonly<Record<KafkaErrorCode, boolean>> = { 'not-connected': false, timeout: true, 'send-timeout': true };

/** An error of `@cvd/kafka`; `retriable` follows from the code. */
export class KafkaError extends CvdError<KafkaErrorCode> {
  constructor(code: KafkaErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(code, message, { cause: options.cause, retriable: RETRIABLE[code] });
  }
}
