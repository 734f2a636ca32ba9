/** Why a stack operation failed; every code maps to a one-line message that names the fix. */
export const STACK_ERROR_CODES = [
  'java-missing',
  'java-too-old',
  'maven-missing',
  'download-failed',
  'port-busy',
  'start-failed',
  'not-healthy',
  'repo-not-found',
] as const;
export type StackErrorCode = (typeof STACK_ERROR_CODES)[number];

export class StackError extends Error {
  override readonly name = 'StackError';
  readonly code: StackErrorCode;
  readonly retriable: boolean;
  constructor(code: StackErrorCode, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options?.retriable ?? false;
  }
}
