/**
 * Errors the engine throws. Bad *trades* never throw — they come back in
 * `BatchResult.rejected`; only caller mistakes (bad options, a non-finite watermark) and a
 * corrupt snapshot do. On `CvdError` (`@cvd/core`, itself dependency-free), so the engine
 * still has no third-party runtime dependency.
 */
import { CvdError } from '@cvd/core';

export const ENGINE_ERROR_CODES = ['invalid-options', 'invalid-watermark', 'invalid-state'] as const;
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

/** Never retriable: the same options, watermark or snapshot fail the same way again. */
export class EngineError extends CvdError<EngineErrorCode> {
  constructor(code: EngineErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(code, message, { cause: options.cause, retriable: false });
  }
}
