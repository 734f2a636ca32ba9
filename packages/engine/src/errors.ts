/**
 * Errors the engine throws. Bad *trades* never throw — they come back in
 * `BatchResult.rejected`; only caller mistakes (bad options, a non-finite watermark) and a
 * corrupt snapshot do. Same shape as `@cvd/common`'s `CvdError` (a `code` from an
 * `as const` union, a `retriable` flag, `cause`); kept local so the engine has no runtime
 * dependency at all.
 */

export const ENGINE_ERROR_CODES = ['invalid-options', 'invalid-watermark', 'invalid-state'] as const;
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  /** Always false: retrying with the same input cannot help. */
  readonly retriable = false;

  constructor(code: EngineErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
  }
}
