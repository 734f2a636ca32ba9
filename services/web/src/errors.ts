import { CvdError } from '@cvd/common';

export const WEB_ERROR_CODES = ['bad-request'] as const;
export type WebErrorCode = (typeof WEB_ERROR_CODES)[number];

/** A request the API refuses; its message is the 400 body's `error` and names the parameter. */
export class WebError extends CvdError<WebErrorCode> {}
