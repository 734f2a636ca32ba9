/**
 * Typed errors of the simulator, on the project's `CvdError` (`@cvd/core`, the
 * dependency-free vocabulary; the simulator still shares no code with the Binance client).
 */
import { CvdError } from '@cvd/core';

export const SIMULATOR_ERROR_CODES = [
  /** Options that cannot describe a simulation (bad market, bad source spec, bad fault). */
  'bad-options',
  /** A trade source (file, text) that does not parse. */
  'bad-source',
  /** The HTTP/WebSocket server could not bind (port taken, permission): another port or a retry may work. */
  'listen-failed',
  /** Called after `stop()`. */
  'not-running',
  /** `waitForSubscribers` timed out: the client may still be connecting. */
  'no-subscriber',
] as const;

export type SimulatorErrorCode = (typeof SIMULATOR_ERROR_CODES)[number];

/** Whether each code is worth another attempt: only the ones that depend on timing. */
const RETRIABLE: Readonly<Record<SimulatorErrorCode, boolean>> = {
  'bad-options': false,
  'bad-source': false,
  'listen-failed': true,
  'not-running': false,
  'no-subscriber': true,
};

export class SimulatorError extends CvdError<SimulatorErrorCode> {
  constructor(code: SimulatorErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(code, message, { cause: options.cause, retriable: RETRIABLE[code] });
  }
}
