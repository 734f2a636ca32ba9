/**
 * Shared core of the aggTrade frame parsers: decoding, envelope handling (raw vs combined
 * streams, subscription responses) and field validation. The per-market files
 * (`spot.ts`, `usdm.ts`, `coinm.ts`) only describe what differs between markets.
 *
 * Nothing here throws on bad input: every problem becomes a {@link FrameError} with a code
 * to branch on and a reason for people.
 */
import type { Market } from '../market.js';
import { isValidSymbol, lowerAscii, MAX_SYMBOL_LENGTH } from '../symbol.js';

export const FRAME_ERROR_CODES = [
  /** The frame is larger than `maxFrameBytes`. */
  'too_large',
  /** A Buffer/ArrayBuffer that is not valid UTF-8. */
  'binary',
  /** Text that is not JSON. */
  'invalid_json',
  /** JSON that is not an object (array, string, number, null). */
  'not_object',
  /** An object that is neither an event, a combined-stream wrapper nor a response. */
  'unknown_frame',
  /** An event (`e`) this market's parser does not handle. */
  'unsupported_event',
  /** A combined-stream wrapper whose `stream` does not name the event's symbol. */
  'stream_mismatch',
  /** A required field is absent. */
  'missing_field',
  /** `p`/`q` is not a plain non-negative decimal string. */
  'invalid_decimal',
  /** `a`/`f`/`l` is not a safe non-negative integer, or `f > l`. */
  'invalid_id',
  /** `T`/`E` is not a safe non-negative integer or does not fit the time unit. */
  'invalid_time',
  /** `s` is empty, too long or contains forbidden characters. */
  'invalid_symbol',
  /** Any other field of the wrong type (`m` not boolean, `data` not an object...). */
  'invalid_field',
] as const;
export type FrameErrorCode = (typeof FRAME_ERROR_CODES)[number];

/** Time unit of a stream's `T`/`E`. Spot can be asked for microseconds; futures cannot. */
export type TimeUnit = 'MILLISECOND' | 'MICROSECOND';

export interface AggTrade {
  readonly market: Market;
  /** Exchange symbol as sent (`BTCUSDT`, `ETHUSD_PERP`, `币安人生USDT`). */
  readonly symbol: string;
  /** `a`: per symbol it increases by exactly 1; gaps are detected on it alone. */
  readonly aggId: number;
  /** `p`, the exact decimal string. */
  readonly price: string;
  /** `q`, the exact decimal string; COIN-M quantities are contracts. */
  readonly qty: string;
  readonly firstId: number;
  readonly lastId: number;
  /** `T` in milliseconds (floored when the stream sends microseconds). */
  readonly tradeTimeMs: number;
  /** `E` in milliseconds; REST rows have no `E`, so there it equals `tradeTimeMs`. */
  readonly eventTimeMs: number;
  /** `m`: the buyer is the maker, i.e. the taker sold. */
  readonly buyerMaker: boolean;
  /** `T` as sent, only when the stream's time unit is microseconds. */
  readonly tradeTimeUs?: number;
}

export interface TradeFrame {
  readonly kind: 'trade';
  readonly trade: AggTrade;
  /** The combined-stream name, when the frame came wrapped. */
  readonly stream?: string;
}

/** Request id as echoed by Binance (`{"result":null,"id":1}`). */
export type RequestId = number | string | null;

export type ControlFrame =
  /** `{"result":null,"id":1}`: SUBSCRIBE/UNSUBSCRIBE succeeded. */
  | { readonly kind: 'control'; readonly type: 'ack'; readonly id: RequestId }
  /** `{"result":["btcusdt@aggTrade"],"id":3}`: answer to LIST_SUBSCRIPTIONS. */
  | { readonly kind: 'control'; readonly type: 'subscriptions'; readonly id: RequestId; readonly streams: readonly string[] }
  /** Any other `result` (e.g. GET_PROPERTY's `true`). */
  | { readonly kind: 'control'; readonly type: 'result'; readonly id: RequestId; readonly result: unknown }
  /** `{"error":{"code":2,"msg":"Invalid request"},"id":1}`. */
  | { readonly kind: 'control'; readonly type: 'requestError'; readonly id: RequestId; readonly code: number; readonly msg: string }
  /** Spot `{"e":"serverShutdown","E":...}`: reconnect at once. */
  | { readonly kind: 'control'; readonly type: 'serverShutdown'; readonly eventTimeMs: number };

export interface FrameError {
  readonly kind: 'error';
  readonly code: FrameErrorCode;
  readonly reason: string;
  /** The offending field, when there is one. */
  readonly field?: string;
}

export type ParsedFrame = TradeFrame | ControlFrame | FrameError;

export interface ParseOptions {
  /**
   * Frames larger than this many bytes (UTF-8) are rejected before JSON parsing. An aggTrade
   * is ~250 bytes; a LIST_SUBSCRIPTIONS answer for 1024 streams is ~25 KiB.
   * @defaultValue 65536
   */
  readonly maxFrameBytes?: number;
  /**
   * Unit of `T`/`E`. Set `'MICROSECOND'` for spot URLs built with `timeUnit: 'MICROSECOND'`.
   * @defaultValue 'MILLISECOND'
   */
  readonly timeUnit?: TimeUnit;
  /**
   * Longest accepted `p`/`q` string.
   * @defaultValue 64
   */
  readonly maxDecimalLength?: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 65_536;
export const DEFAULT_MAX_DECIMAL_LENGTH = 64;

/**
 * Times at or above this are not plausible milliseconds (year 5138) but are microseconds
 * from 1973 on: it tells the two units apart, catching a stream whose `timeUnit` does not
 * match what the parser was told.
 */
export const MICROSECOND_TIME_THRESHOLD = 1e14;

/** What differs between markets; see the per-market files. */
export interface MarketDialect {
  readonly market: Market;
  /** Official documentation of the market's aggTrade stream. */
  readonly docUrl: string;
  /** Whether the market announces maintenance with `{"e":"serverShutdown"}`. */
  readonly serverShutdownEvent: boolean;
}

const DECIMAL_RE = /^\d+(?:\.\d+)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

type Obj = Record<string, unknown>;

function fail(code: FrameErrorCode, reason: string, field?: string): FrameError {
  return field === undefined ? { kind: 'error', code, reason } : { kind: 'error', code, reason, field };
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFrameError(v: unknown): v is FrameError {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'error';
}

/** Short, escaped rendering of a bad value for reasons. */
function show(v: unknown): string {
  if (typeof v === 'string') {
    const s = JSON.stringify(v.length > 24 ? `${v.slice(0, 24)}…` : v);
    return `string ${s}`;
  }
  if (typeof v === 'number') return `number ${String(v)}`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Turns a string, Buffer/Uint8Array or ArrayBuffer into JSON; anything else passes through. */
function decode(raw: unknown, maxBytes: number): { readonly value: unknown } | FrameError {
  let text: string;
  if (typeof raw === 'string') {
    // UTF-8 needs at least one byte per UTF-16 unit and at most three.
    if (raw.length > maxBytes || (raw.length * 3 > maxBytes && Buffer.byteLength(raw, 'utf8') > maxBytes)) {
      return fail('too_large', `frame is larger than ${maxBytes} bytes`);
    }
    text = raw;
  } else if (raw instanceof Uint8Array || raw instanceof ArrayBuffer) {
    const bytes = raw instanceof Uint8Array ? raw : new Uint8Array(raw);
    if (bytes.byteLength > maxBytes) {
      return fail('too_large', `frame is ${bytes.byteLength} bytes, above the ${maxBytes} limit`);
    }
    try {
      text = utf8.decode(bytes);
    } catch {
      return fail('binary', `frame of ${bytes.byteLength} bytes is not UTF-8 text`);
    }
  } else {
    return { value: raw };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return fail('invalid_json', `frame is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function decimalField(o: Obj, key: string, maxLength: number): string | FrameError {
  const v = o[key];
  if (v === undefined) return fail('missing_field', `"${key}" is missing`, key);
  if (typeof v !== 'string') {
    return fail('invalid_decimal', `"${key}" must be a decimal string, got ${show(v)}`, key);
  }
  if (v.length > maxLength) {
    return fail('invalid_decimal', `"${key}" is ${v.length} characters long, above the ${maxLength} limit`, key);
  }
  if (DECIMAL_RE.test(v)) return v;
  let why: string;
  if (v.length === 0) why = 'is an empty string';
  else if (v.trimStart().startsWith('-')) why = `is negative (${show(v)})`;
  else if (/^\s*[+\d.]*[eE]/.test(v)) why = `uses exponent notation (${show(v)})`;
  else why = `is not a plain decimal of digits with an optional fraction (${show(v)})`;
  return fail('invalid_decimal', `"${key}" ${why}`, key);
}

export function idField(o: Obj, key: string): number | FrameError {
  const v = o[key];
  if (v === undefined) return fail('missing_field', `"${key}" is missing`, key);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || Object.is(v, -0)) {
    return fail('invalid_id', `"${key}" must be a safe non-negative integer, got ${show(v)}`, key);
  }
  return v;
}

export function timeField(o: Obj, key: string, unit: TimeUnit): number | FrameError {
  const v = o[key];
  if (v === undefined) return fail('missing_field', `"${key}" is missing`, key);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || Object.is(v, -0)) {
    return fail('invalid_time', `"${key}" must be a safe non-negative integer, got ${show(v)}`, key);
  }
  if (unit === 'MILLISECOND' && v >= MICROSECOND_TIME_THRESHOLD) {
    return fail('invalid_time', `"${key}" ${v} looks like microseconds but the time unit is MILLISECOND`, key);
  }
  if (unit === 'MICROSECOND' && v < MICROSECOND_TIME_THRESHOLD) {
    return fail('invalid_time', `"${key}" ${v} looks like milliseconds but the time unit is MICROSECOND`, key);
  }
  return v;
}

function symbolField(o: Obj, key: string): string | FrameError {
  const v = o[key];
  if (v === undefined) return fail('missing_field', `"${key}" is missing`, key);
  if (typeof v !== 'string' || !isValidSymbol(v)) {
    return fail(
      'invalid_symbol',
      `"${key}" must be 1–${MAX_SYMBOL_LENGTH} characters without whitespace, control characters or @/?#&=%:, got ${show(v)}`,
      key,
    );
  }
  return v;
}

function boolField(o: Obj, key: string): boolean | FrameError {
  const v = o[key];
  if (v === undefined) return fail('missing_field', `"${key}" is missing`, key);
  if (typeof v !== 'boolean') return fail('invalid_field', `"${key}" must be a boolean, got ${show(v)}`, key);
  return v;
}

const toMs = (v: number, unit: TimeUnit): number => (unit === 'MICROSECOND' ? Math.floor(v / 1000) : v);

/**
 * Validates the fields shared by websocket events and REST rows (`a p q f l T m`).
 * `eventTime` is `E` for websocket events; REST rows have none.
 */
function buildTrade(
  market: Market,
  symbol: string,
  o: Obj,
  eventTime: number | undefined,
  unit: TimeUnit,
  maxDecimalLength: number,
): AggTrade | FrameError {
  const aggId = idField(o, 'a');
  if (isFrameError(aggId)) return aggId;
  const price = decimalField(o, 'p', maxDecimalLength);
  if (isFrameError(price)) return price;
  const qty = decimalField(o, 'q', maxDecimalLength);
  if (isFrameError(qty)) return qty;
  const firstId = idField(o, 'f');
  if (isFrameError(firstId)) return firstId;
  const lastId = idField(o, 'l');
  if (isFrameError(lastId)) return lastId;
  if (firstId > lastId) {
    return fail('invalid_id', `first trade id "f" ${firstId} is above last trade id "l" ${lastId}`, 'f');
  }
  const tradeTime = timeField(o, 'T', unit);
  if (isFrameError(tradeTime)) return tradeTime;
  const buyerMaker = boolField(o, 'm');
  if (isFrameError(buyerMaker)) return buyerMaker;
  const tradeTimeMs = toMs(tradeTime, unit);
  const eventTimeMs = eventTime === undefined ? tradeTimeMs : toMs(eventTime, unit);
  const trade: AggTrade = { market, symbol, aggId, price, qty, firstId, lastId, tradeTimeMs, eventTimeMs, buyerMaker };
  return unit === 'MICROSECOND' ? { ...trade, tradeTimeUs: tradeTime } : trade;
}

function parseEvent(d: MarketDialect, o: Obj, stream: string | undefined, opts: Required<ParseOptions>): ParsedFrame {
  const e = o['e'];
  if (e === undefined) return fail('missing_field', '"e" (event type) is missing', 'e');
  if (e === 'aggTrade') {
    const symbol = symbolField(o, 's');
    if (isFrameError(symbol)) return symbol;
    // Case-insensitive, because only the symbol part matters for routing.
    if (stream !== undefined && lowerAscii(stream) !== `${lowerAscii(symbol)}@aggtrade`) {
      return fail('stream_mismatch', `stream ${show(stream)} does not carry symbol ${show(symbol)}`, 'stream');
    }
    const eventTime = timeField(o, 'E', opts.timeUnit);
    if (isFrameError(eventTime)) return eventTime;
    const trade = buildTrade(d.market, symbol, o, eventTime, opts.timeUnit, opts.maxDecimalLength);
    if (isFrameError(trade)) return trade;
    return stream === undefined ? { kind: 'trade', trade } : { kind: 'trade', trade, stream };
  }
  if (e === 'serverShutdown' && d.serverShutdownEvent) {
    const eventTime = timeField(o, 'E', opts.timeUnit);
    if (isFrameError(eventTime)) return eventTime;
    return { kind: 'control', type: 'serverShutdown', eventTimeMs: toMs(eventTime, opts.timeUnit) };
  }
  return fail('unsupported_event', `event ${show(e)} is not handled on ${d.market}`, 'e');
}

function parseResponse(o: Obj): ParsedFrame {
  const id = o['id'];
  if (id !== null && typeof id !== 'number' && typeof id !== 'string') {
    return fail('invalid_field', `response "id" must be a number, string or null, got ${show(id)}`, 'id');
  }
  if ('error' in o) {
    const err = o['error'];
    if (!isObj(err) || typeof err['code'] !== 'number' || typeof err['msg'] !== 'string') {
      return fail('invalid_field', 'response "error" must be {"code": number, "msg": string}', 'error');
    }
    return { kind: 'control', type: 'requestError', id, code: err['code'], msg: err['msg'] };
  }
  const result = o['result'];
  if (result === null) return { kind: 'control', type: 'ack', id };
  if (Array.isArray(result) && result.every((s): s is string => typeof s === 'string')) {
    return { kind: 'control', type: 'subscriptions', id, streams: result };
  }
  return { kind: 'control', type: 'result', id, result };
}

/** Parses one websocket frame with a market's dialect. Never throws. */
export function parseDialectFrame(d: MarketDialect, raw: unknown, options: ParseOptions = {}): ParsedFrame {
  const opts: Required<ParseOptions> = {
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    timeUnit: options.timeUnit ?? 'MILLISECOND',
    maxDecimalLength: options.maxDecimalLength ?? DEFAULT_MAX_DECIMAL_LENGTH,
  };
  const decoded = decode(raw, opts.maxFrameBytes);
  if (isFrameError(decoded)) return decoded;
  const o = decoded.value;
  if (!isObj(o)) return fail('not_object', `frame must be a JSON object, got ${show(o)}`);
  if ('e' in o) return parseEvent(d, o, undefined, opts);
  if ('data' in o || 'stream' in o) {
    const stream = o['stream'];
    const data = o['data'];
    if (typeof stream !== 'string') {
      return fail('invalid_field', `combined frame "stream" must be a string, got ${show(stream)}`, 'stream');
    }
    if (!isObj(data)) return fail('invalid_field', `combined frame "data" must be an object, got ${show(data)}`, 'data');
    return parseEvent(d, data, stream, opts);
  }
  if ('id' in o && ('result' in o || 'error' in o)) return parseResponse(o);
  return fail('unknown_frame', 'object is neither an event, a combined-stream frame nor a request response');
}

export interface RestRowOptions {
  /** @defaultValue 'MILLISECOND' */
  readonly timeUnit?: TimeUnit;
  /** @defaultValue 64 */
  readonly maxDecimalLength?: number;
}

/**
 * Validates one row of `GET .../aggTrades` (`{"a","p","q","f","l","T","m"}`). REST rows do not
 * name their symbol, so the caller passes the one it asked for. Never throws.
 */
export function parseRestAggTrade(
  market: Market,
  symbol: string,
  row: unknown,
  options: RestRowOptions = {},
): AggTrade | FrameError {
  if (!isObj(row)) return fail('not_object', `aggTrades row must be an object, got ${show(row)}`);
  if (!isValidSymbol(symbol)) return fail('invalid_symbol', `symbol ${show(symbol)} is not a valid symbol`);
  return buildTrade(
    market,
    symbol,
    row,
    undefined,
    options.timeUnit ?? 'MILLISECOND',
    options.maxDecimalLength ?? DEFAULT_MAX_DECIMAL_LENGTH,
  );
}

export { isFrameError };
