/**
 * Typed errors of the simulator. Same shape as `@cvd/common`'s `CvdError` (a `code` from an
 * `as const` union and a `retriable` flag) without importing it: the simulator stands in for
 * Binance and shares no code with the client side.
 */
export const SIMULATOR_ERROR_CODES = [
  'BAD_OPTIONS',
  'BAD_SOURCE',
  'LISTEN_FAILED',
  'NOT_RUNNING',
] as const;

export type SimulatorErrorCode = (typeof SIMULATOR_ERROR_CODES)[number];

export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';
  readonly code: SimulatorErrorCode;
  readonly retriable: boolean;

  constructor(code: SimulatorErrorCode, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options?.retriable ?? false;
  }
}
