/**
 * Shared core of the aggTrade frame parsers: decoding, envelope handling (raw vs combined
 * streams, subscription responses) and field validation. The per-market files
 * (`spot.ts`, `usdm.ts`, `coinm.ts`) only describe what differs between markets.
 *
 * Nothing here throws on bad input: every problem becomes a {@link FrameError} with a code
 * to branch on and a reason for people. The trade's own fields are checked by the core's
 * `checkExchangeTrade`, the same check the record decoder runs, so a bad price is
 * `invalid-decimal` wherever it is caught; this file only adds what is about the wire (the
 * envelope, missing keys, the time unit, the frame size).
 */
import { checkExchangeTrade, isSymbol, MAX_SYMBOL_LENGTH, showValue as show, TRADE_PROBLEM_CODES } from '@cvd/core';
import type { AggTrade, ExchangeTrade, Market } from '@cvd/core';
import { lowerAscii } from '../symbol.js';

/** Problems of the frame itself, before there is a trade to check. */
const ENVELOPE_ERROR_CODES = [
  /** The frame is larger than `maxFrameBytes`. */
  'too-large',
  /** A Buffer/ArrayBuffer that is not valid UTF-8. */
  'binary',
  /** Text that is not JSON. */
  'invalid-json',
  /** A required field is absent. */
  'missing-field',
  /** An object that is neither an event, a combined-stream wrapper nor a response. */
  'unknown-frame',
  /** An event (`e`) this market's parser does not handle. */
  'unsupported-event',
  /** A combined-stream wrapper whose `stream` does not name the event's symbol. */
  'stream-mismatch',
] as const;

/**
 * Every code a frame can be rejected with (all kebab-case; ingest's dead-letter `reason`
 * and the `reason` label of `cvd_ingest_malformed_total`): the envelope's, then the trade's
 * from `TRADE_PROBLEM_CODES` — `not-object` (JSON that is not an object), `invalid-decimal`
 * (`p`/`q`), `invalid-id` (`a`/`f`/`l`, `f > l`), `invalid-time` (`T`/`E`, also a time unit
 * mismatch), `invalid-symbol` (`s`), `invalid-field` (any other wrong type: `m` not boolean,
 * `data` not an object, a bad response id, an unknown market) and `invalid-market`.
 */
export const FRAME_ERROR_CODES = [...ENVELOPE_ERROR_CODES, ...TRADE_PROBLEM_CODES] as const;
export type FrameErrorCode = (typeof FRAME_ERROR_CODES)[number];

/** Time unit of a stream's `T`/`E`. Spot can be asked for microseconds; futures cannot. */
export type TimeUnit = 'MILLISECOND' | 'MICROSECOND';

/**
 * What a frame or REST row says about one trade: the core's {@link ExchangeTrade}, plus `T`
 * as sent when the stream's time unit is microseconds.
 */
export type FrameTrade = ExchangeTrade & { readonly tradeTimeUs?: number };

export interface TradeFrame {
  readonly kind: 'trade';
  readonly trade: FrameTrade;
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

/** Turns a string, Buffer/Uint8Array or ArrayBuffer into JSON; anything else passes through. */
function decode(raw: unknown, maxBytes: number): { readonly value: unknown } | FrameError {
  let text: string;
  if (typeof raw === 'string') {
    // UTF-8 needs at least one byte per UTF-16 unit and at most three.
    if (raw.length > maxBytes || (raw.length * 3 > maxBytes && Buffer.byteLength(raw, 'utf8') > maxBytes)) {
      return fail('too-large', `frame is larger than ${maxBytes} bytes`);
    }
    text = raw;
  } else if (raw instanceof Uint8Array || raw instanceof ArrayBuffer) {
    const bytes = raw instanceof Uint8Array ? raw : new Uint8Array(raw);
    if (bytes.byteLength > maxBytes) {
      return fail('too-large', `frame is ${bytes.byteLength} bytes, above the ${maxBytes} limit`);
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
    return fail('invalid-json', `frame is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function timeField(o: Obj, key: string, unit: TimeUnit): number | FrameError {
  const v = o[key];
  if (v === undefined) return fail('missing-field', `"${key}" is missing`, key);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || Object.is(v, -0)) {
    return fail('invalid-time', `"${key}" must be a safe non-negative integer, got ${show(v)}`, key);
  }
  if (unit === 'MILLISECOND' && v >= MICROSECOND_TIME_THRESHOLD) {
    return fail('invalid-time', `"${key}" ${v} looks like microseconds but the time unit is MILLISECOND`, key);
  }
  if (unit === 'MICROSECOND' && v < MICROSECOND_TIME_THRESHOLD) {
    return fail('invalid-time', `"${key}" ${v} looks like milliseconds but the time unit is MICROSECOND`, key);
  }
  return v;
}

function symbolField(o: Obj, key: string): string | FrameError {
  const v = o[key];
  if (v === undefined) return fail('missing-field', `"${key}" is missing`, key);
  if (!isSymbol(v)) return fail('invalid-symbol', symbolReason(key, v), key);
  return v;
}

function symbolReason(key: string, v: unknown): string {
  return `"${key}" must be 1–${MAX_SYMBOL_LENGTH} characters without whitespace, control characters, quotes or @/?#&=%:\\, got ${show(v)}`;
}

/** The frame's key of each trade field, to name the offending field as Binance spells it. */
const WIRE_KEYS: Readonly<Partial<Record<keyof AggTrade, string>>> = {
  symbol: 's',
  aggId: 'a',
  price: 'p',
  qty: 'q',
  firstId: 'f',
  lastId: 'l',
  tradeTimeMs: 'T',
  eventTimeMs: 'E',
  buyerMaker: 'm',
};

const toMs = (v: number, unit: TimeUnit): number => (unit === 'MICROSECOND' ? Math.floor(v / 1000) : v);

/**
 * Builds the trade from the fields shared by websocket events and REST rows (`a p q f l T m`)
 * and checks it with the core's trade check. `eventTime` is `E` for websocket events; REST
 * rows have none.
 */
function buildTrade(
  market: Market,
  symbol: string,
  o: Obj,
  eventTime: number | undefined,
  unit: TimeUnit,
  maxDecimalLength: number,
): FrameTrade | FrameError {
  for (const key of ['a', 'p', 'q', 'f', 'l']) {
    const v = o[key];
    if (v === undefined) return fail('missing-field', `"${key}" is missing`, key);
    // A stricter limit than the core's may be configured: a resource cap, like maxFrameBytes.
    if (typeof v === 'string' && v.length > maxDecimalLength) {
      return fail('invalid-decimal', `"${key}" is ${v.length} characters long, above the ${maxDecimalLength} limit`, key);
    }
  }
  const tradeTime = timeField(o, 'T', unit);
  if (isFrameError(tradeTime)) return tradeTime;
  if (o['m'] === undefined) return fail('missing-field', '"m" is missing', 'm');
  const tradeTimeMs = toMs(tradeTime, unit);
  const eventTimeMs = eventTime === undefined ? tradeTimeMs : toMs(eventTime, unit);
  // Exactly these fields: nothing else from the input leaks into the trade.
  const candidate = { market, symbol, aggId: o['a'], price: o['p'], qty: o['q'], firstId: o['f'], lastId: o['l'], tradeTimeMs, eventTimeMs, buyerMaker: o['m'] };
  const problem = checkExchangeTrade(candidate);
  if (problem !== undefined) {
    if (problem.field === undefined) return fail(problem.code, problem.reason);
    // Name the field as the frame spells it: `"q" must be a decimal string, …`.
    const key = WIRE_KEYS[problem.field] ?? problem.field;
    return fail(problem.code, `"${key}"${problem.reason.slice(problem.field.length)}`, key);
  }
  const trade = candidate as ExchangeTrade;
  return unit === 'MICROSECOND' ? { ...trade, tradeTimeUs: tradeTime } : trade;
}

function parseEvent(d: MarketDialect, o: Obj, stream: string | undefined, opts: Required<ParseOptions>): ParsedFrame {
  const e = o['e'];
  if (e === undefined) return fail('missing-field', '"e" (event type) is missing', 'e');
  if (e === 'aggTrade') {
    const symbol = symbolField(o, 's');
    if (isFrameError(symbol)) return symbol;
    // Case-insensitive, because only the symbol part matters for routing.
    if (stream !== undefined && lowerAscii(stream) !== `${lowerAscii(symbol)}@aggtrade`) {
      return fail('stream-mismatch', `stream ${show(stream)} does not carry symbol ${show(symbol)}`, 'stream');
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
  return fail('unsupported-event', `event ${show(e)} is not handled on ${d.market}`, 'e');
}

function parseResponse(o: Obj): ParsedFrame {
  const id = o['id'];
  if (id !== null && typeof id !== 'number' && typeof id !== 'string') {
    return fail('invalid-field', `response "id" must be a number, string or null, got ${show(id)}`, 'id');
  }
  if ('error' in o) {
    const err = o['error'];
    if (!isObj(err) || typeof err['code'] !== 'number' || typeof err['msg'] !== 'string') {
      return fail('invalid-field', 'response "error" must be {"code": number, "msg": string}', 'error');
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
  if (!isObj(o)) return fail('not-object', `frame must be a JSON object, got ${show(o)}`);
  if ('e' in o) return parseEvent(d, o, undefined, opts);
  if ('data' in o || 'stream' in o) {
    const stream = o['stream'];
    const data = o['data'];
    if (typeof stream !== 'string') {
      return fail('invalid-field', `combined frame "stream" must be a string, got ${show(stream)}`, 'stream');
    }
    if (!isObj(data)) return fail('invalid-field', `combined frame "data" must be an object, got ${show(data)}`, 'data');
    return parseEvent(d, data, stream, opts);
  }
  if ('id' in o && ('result' in o || 'error' in o)) return parseResponse(o);
  return fail('unknown-frame', 'object is neither an event, a combined-stream frame nor a request response');
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
): FrameTrade | FrameError {
  if (!isObj(row)) return fail('not-object', `aggTrades row must be an object, got ${show(row)}`);
  if (!isSymbol(symbol)) return fail('invalid-symbol', `symbol ${show(symbol)} is not a valid symbol`);
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
