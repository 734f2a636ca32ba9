/**
 * Live subscription requests (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY,
 * GET_PROPERTY) and Binance's error replies, from binance-spot-api-docs
 * web-socket-streams.md "Live Subscribing/Unsubscribing" and "Error Messages".
 * Errors go out as `{"error":{"code":N,"msg":"..."},"id":ID}`.
 */

export type ControlRequest =
  | { method: 'SUBSCRIBE' | 'UNSUBSCRIBE'; params: string[]; id: RequestId }
  | { method: 'LIST_SUBSCRIPTIONS'; id: RequestId }
  | { method: 'SET_PROPERTY'; property: 'combined'; value: boolean; id: RequestId }
  | { method: 'GET_PROPERTY'; property: 'combined'; id: RequestId };

export type RequestId = number | string | null;

export interface ControlError {
  error: { code: number; msg: string };
  id?: RequestId;
}

const METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'];
const ID_STRING_RE = /^[A-Za-z0-9]{1,36}$/;

function err(code: number, msg: string, id?: RequestId): ControlError {
  return id === undefined ? { error: { code, msg } } : { error: { code, msg }, id };
}

/** Parses one client text message into a request or the error Binance would answer. */
export function parseControl(text: string): ControlRequest | ControlError {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return err(3, 'Invalid JSON: expected value at line 1 column 1');
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return err(2, 'Invalid request: expected an object');
  }
  const o = msg as Record<string, unknown>;
  const rawId = o['id'];
  const idOk =
    rawId === null ||
    (typeof rawId === 'number' && Number.isSafeInteger(rawId)) ||
    (typeof rawId === 'string' && ID_STRING_RE.test(rawId));
  if (!idOk) return err(2, 'Invalid request: request ID must be an unsigned integer');
  const id = rawId as RequestId;
  const method = o['method'];
  if (method === undefined) return err(2, 'Invalid request: missing field `method` at line 1 column 1', id);
  if (typeof method !== 'string' || !METHODS.includes(method)) {
    return err(
      2,
      `Invalid request: unknown variant \`${String(method)}\`, expected one of \`SUBSCRIBE\`, \`UNSUBSCRIBE\`, \`LIST_SUBSCRIPTIONS\`, \`SET_PROPERTY\`, \`GET_PROPERTY\` at line 1 column 1`,
      id,
    );
  }
  const params = o['params'];
  switch (method) {
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE': {
      if (!Array.isArray(params) || !params.every((p): p is string => typeof p === 'string' && p.length > 0)) {
        return err(2, 'Invalid request: params must be a list of stream names', id);
      }
      return { method, params: params as string[], id };
    }
    case 'LIST_SUBSCRIPTIONS':
      if (params !== undefined && !(Array.isArray(params) && params.length === 0)) {
        return err(2, 'Invalid request: too many parameters', id);
      }
      return { method, id };
    case 'SET_PROPERTY': {
      if (!Array.isArray(params) || typeof params[0] !== 'string') return err(2, 'Invalid request: property name must be a string', id);
      if (params[0] !== 'combined') return err(0, 'Unknown property', id);
      if (params.length > 2) return err(2, 'Invalid request: too many parameters', id);
      if (typeof params[1] !== 'boolean') return err(1, 'Invalid value type: expected Boolean', id);
      return { method, property: 'combined', value: params[1], id };
    }
    default: {
      if (!Array.isArray(params) || typeof params[0] !== 'string') return err(2, 'Invalid request: property name must be a string', id);
      if (params[0] !== 'combined') return err(0, 'Unknown property', id);
      if (params.length > 1) return err(2, 'Invalid request: too many parameters', id);
      return { method: 'GET_PROPERTY', property: 'combined', id };
    }
  }
}

export function isControlError(x: ControlRequest | ControlError): x is ControlError {
  return 'error' in x;
}
