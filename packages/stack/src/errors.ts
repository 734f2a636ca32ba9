import { CvdError } from '@cvd/core';

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
  'unsafe-reset',
] as const;
export type StackErrorCode = (typeof STACK_ERROR_CODES)[number];

/**
 * Whether each code may go away by trying again unchanged: a download (network, registry)
 * and a server that was merely slow to become healthy. Everything else needs the user to
 * install, free or fix something first.
 */
const RETRIABLE: Readonly<Record<StackErrorCode, boolean>> = {
  'java-missing': false,
  'java-too-old': false,
  'maven-missing': false,
  'download-failed': true,
  'port-busy': false,
  'start-failed': false,
  'not-healthy': true,
  'repo-not-found': false,
  'unsafe-reset': false,
};

export class StackError extends CvdError<StackErrorCode> {
  constructor(code: StackErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(code, message, { cause: options.cause, retriable: RETRIABLE[code] });
  }
}
