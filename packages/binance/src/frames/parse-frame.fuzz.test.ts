/**
 * Fuzzing the websocket frame parser (issue 5): for every market, arbitrary text, arbitrary
 * JSON (as text and as a parsed value), random bytes and mutations of recorded Binance frames
 * (hostile values such as `1e309`, `NaN`, `-0`, empty strings, numbers instead of strings,
 * deep nesting, huge ids). `parseFrame` must never throw and must answer either a trade whose
 * fields hold the invariants, a well-formed control frame, or a typed error.
 *
 * Seeded and bounded: the same inputs on every run; the counts are printed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { isSymbol, MARKETS, type Market } from '@cvd/core';
import { lowerAscii } from '../symbol.js';
import { DEFAULT_MAX_DECIMAL_LENGTH, FRAME_ERROR_CODES, MICROSECOND_TIME_THRESHOLD, type ParsedFrame, type ParseOptions } from './core.js';
import { parseFrame } from './parse-frame.js';

const SEED = 0x5eed_0005;
const FIXTURES = new URL('../../fixtures/', import.meta.url);
const DECIMAL = /^\d+(?:\.\d+)?$/;
const CODES = new Set<string>(FRAME_ERROR_CODES);

const recorded: Record<Market, string[]> = Object.fromEntries(
  MARKETS.map((m) => [
    m,
    readFileSync(new URL(`binance-${m}-aggtrade-frames.jsonl`, FIXTURES), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== ''),
  ]),
) as Record<Market, string[]>;

const counts = new Map<string, number>();
let total = 0;
const results = new Map<string, number>();
after(() => {
  const parts = [...counts].map(([k, n]) => `${k}=${n}`).join(' ');
  const outcome = [...results].sort().map(([k, n]) => `${k}=${n}`).join(' ');
  process.stdout.write(`# parseFrame fuzz: ${total} inputs (${parts})\n# outcomes: ${outcome}\n`);
});

const isSafeNonNeg = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && !Object.is(v, -0);

/** The invariants every answer satisfies; returns the outcome label. */
function check(market: Market, r: ParsedFrame, opts: ParseOptions = {}): string {
  assert.equal(typeof r, 'object');
  if (r.kind === 'error') {
    assert.ok(CODES.has(r.code), `unknown error code ${String(r.code)}`);
    assert.equal(typeof r.reason, 'string');
    assert.ok(r.reason.length > 0 && r.reason.length < 600, `reason of ${r.reason.length} chars`);
    if (r.field !== undefined) assert.equal(typeof r.field, 'string');
    return `error:${r.code}`;
  }
  if (r.kind === 'control') {
    switch (r.type) {
      case 'ack':
      case 'result':
      case 'subscriptions':
      case 'requestError':
        assert.ok(r.id === null || typeof r.id === 'number' || typeof r.id === 'string');
        if (r.type === 'subscriptions') assert.ok(r.streams.every((s) => typeof s === 'string'));
        if (r.type === 'requestError') assert.ok(typeof r.code === 'number' && typeof r.msg === 'string');
        break;
      case 'serverShutdown':
        assert.equal(market, 'spot', 'serverShutdown only on spot');
        assert.ok(isSafeNonNeg(r.eventTimeMs));
        break;
      default:
        assert.fail(`unknown control type ${JSON.stringify(r)}`);
    }
    return `control:${r.type}`;
  }
  assert.equal(r.kind, 'trade', `unknown kind ${JSON.stringify(r)}`);
  const t = r.trade;
  assert.equal(t.market, market);
  assert.ok(isSymbol(t.symbol), `symbol ${JSON.stringify(t.symbol)}`);
  const maxLen = opts.maxDecimalLength ?? DEFAULT_MAX_DECIMAL_LENGTH;
  for (const d of [t.price, t.qty]) {
    assert.ok(typeof d === 'string' && DECIMAL.test(d) && d.length <= maxLen, `decimal ${JSON.stringify(d)}`);
  }
  for (const id of [t.aggId, t.firstId, t.lastId, t.tradeTimeMs, t.eventTimeMs]) assert.ok(isSafeNonNeg(id), `id/time ${String(id)}`);
  assert.ok(t.firstId <= t.lastId);
  assert.equal(typeof t.buyerMaker, 'boolean');
  if ((opts.timeUnit ?? 'MILLISECOND') === 'MILLISECOND') {
    assert.ok(t.tradeTimeMs < MICROSECOND_TIME_THRESHOLD && t.eventTimeMs < MICROSECOND_TIME_THRESHOLD);
    assert.equal(t.tradeTimeUs, undefined);
  } else {
    assert.ok(isSafeNonNeg(t.tradeTimeUs));
  }
  if (r.stream !== undefined) assert.equal(lowerAscii(r.stream), `${lowerAscii(t.symbol)}@aggtrade`);
  // Exactly the listed fields: nothing from the input leaks through (no prototype tricks).
  const keys = Object.keys(t).sort();
  const expected = ['aggId', 'buyerMaker', 'eventTimeMs', 'firstId', 'lastId', 'market', 'price', 'qty', 'symbol', 'tradeTimeMs'];
  assert.deepEqual(keys, t.tradeTimeUs === undefined ? expected : [...expected, 'tradeTimeUs'].sort());
  return 'trade';
}

function run(kind: string, market: Market, raw: unknown, opts?: ParseOptions): ParsedFrame {
  total += 1;
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const r = parseFrame(market, raw, opts);
  const label = check(market, r, opts);
  results.set(label, (results.get(label) ?? 0) + 1);
  return r;
}

/** Raw JSON tokens a hostile (or broken) upstream could put in place of any value. */
const HOSTILE_TOKENS: readonly string[] = [
  '1e309',
  '-1e309',
  'NaN',
  'Infinity',
  '-0',
  '0',
  '-1',
  '1.5',
  '1e3',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '18446744073709551616',
  '123456789012345678901234567890',
  '100000000000000',
  'true',
  'false',
  'null',
  '[]',
  '{}',
  '""',
  '" "',
  '"0"',
  '"-0"',
  '"1e309"',
  '"1E5"',
  '"NaN"',
  '"Infinity"',
  '"-1.5"',
  '"+1"',
  '".5"',
  '"5."',
  '"0x1f"',
  '"1,5"',
  '"1.2.3"',
  '"٣"',
  '"１２"',
  `"${'9'.repeat(65)}"`,
  `"${'1'.repeat(1000)}.5"`,
  '"\\u0000"',
  '"BTC\\u0000USDT"',
  '"BTC\\nUSDT"',
  '"BTC USDT"',
  '"btcusdt@aggTrade"',
  '"BTC:USDT"',
  `"${'A'.repeat(65)}"`,
  '"\\ud800"',
  '"aggTrade"',
  '"serverShutdown"',
  '{"__proto__":{"p":"1"}}',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
];
const deepNest = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
const FIELDS = ['e', 'E', 's', 'a', 'p', 'q', 'f', 'l', 'T', 'm', 'M', 'stream', 'data', 'id', 'result', 'error', '__proto__', 'constructor'];

/** Replaces the value of `"field":` in a JSON text with a raw token (first occurrence). */
function replaceValue(text: string, field: string, token: string): string {
  const re = new RegExp(`("${field}"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|-?[0-9.eE+-]+|true|false|null|\\{[^{}]*\\}|\\[[^\\[\\]]*\\])`);
  return re.test(text) ? text.replace(re, (_m, k: string) => `${k}${token}`) : text.replace(/\}\s*\}?\s*$/, (end) => `,"${field}":${token}${end}`);
}

type Mutation =
  | { op: 'replace'; field: string; token: string }
  | { op: 'delete'; field: string }
  | { op: 'dupkey'; field: string; token: string }
  | { op: 'insert'; at: number; text: string }
  | { op: 'remove'; at: number; len: number }
  | { op: 'flip'; at: number; code: number }
  | { op: 'truncate'; at: number }
  | { op: 'nest'; depth: number }
  | { op: 'unwrap' }
  | { op: 'restream'; stream: string }
  | { op: 'pad'; bytes: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('replace' as const), field: fc.constantFrom(...FIELDS), token: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...HOSTILE_TOKENS) }, fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null')) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), field: fc.constantFrom(...FIELDS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dupkey' as const), field: fc.constantFrom(...FIELDS), token: fc.constantFrom(...HOSTILE_TOKENS) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(400), text: fc.string({ maxLength: 4, unit: 'binary' }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), at: fc.nat(400), len: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(400), code: fc.integer({ min: 0, max: 0x10ffff }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat(400) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('nest' as const), depth: fc.integer({ min: 1, max: 5_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unwrap' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('restream' as const), stream: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('BTCUSDT@aggTrade', '@aggtrade', 'ctkusdt@aggtrade', 'x@trade')) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pad' as const), bytes: fc.constantFrom(65_000, 65_537, 70_000, 200_000) }) },
);

function mutate(text: string, m: Mutation): string {
  const at = (n: number): number => (text.length === 0 ? 0 : n % (text.length + 1));
  switch (m.op) {
    case 'replace':
      return replaceValue(text, m.field, m.token);
    case 'delete':
      return text.replace(new RegExp(`,?"${m.field}"\\s*:\\s*("(?:[^"\\\\]|\\\\.)*"|[^,{}\\[\\]]+|\\{[^{}]*\\})`), '');
    case 'dupkey':
      return text.replace(/\}\s*\}?\s*$/, (end) => `,"${m.field}":${m.token}${end}`);
    case 'insert':
      return text.slice(0, at(m.at)) + m.text + text.slice(at(m.at));
    case 'remove':
      return text.slice(0, at(m.at)) + text.slice(at(m.at) + m.len);
    case 'flip': {
      const i = at(m.at);
      return text.slice(0, i) + String.fromCodePoint(m.code) + text.slice(i + 1);
    }
    case 'truncate':
      return text.slice(0, at(m.at));
    case 'nest':
      return replaceValue(text, 'data', deepNest(m.depth));
    case 'unwrap': {
      try {
        const o = JSON.parse(text) as { data?: unknown } | null;
        return typeof o === 'object' && o !== null && o.data !== undefined ? (JSON.stringify(o.data) ?? text) : text;
      } catch {
        return text; // already broken: leave it so
      }
    }
    case 'restream':
      return replaceValue(text, 'stream', JSON.stringify(m.stream));
    case 'pad':
      return replaceValue(text, 'M', JSON.stringify('x'.repeat(m.bytes)));
  }
}

describe('parseFrame fuzzing (seeded, bounded)', () => {
  for (const market of MARKETS) {
    const frames = recorded[market];

    it(`${market}: arbitrary strings (ASCII, full Unicode, lone surrogates) never throw`, () => {
      fc.assert(
        fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200, unit: 'binary' }), fc.string({ maxLength: 60, unit: fc.constantFrom(...'{}[]":,0123456789.eE-+ntrufalsAS\\') })), (s) => {
          run('string', market, s);
        }),
        { seed: SEED, numRuns: 6_000 },
      );
    });

    it(`${market}: arbitrary JSON values, as text and already parsed, never throw`, () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
          const text = JSON.stringify(v);
          run('json-text', market, text);
          run('json-value', market, v);
        }),
        { seed: SEED + 1, numRuns: 3_000 },
      );
    });

    it(`${market}: objects shaped like aggTrade events with arbitrary field values`, () => {
      const value = fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom(...HOSTILE_TOKENS).map((t) => ({ raw: t })));
      const event = fc.record(
        {
          e: fc.oneof(fc.constant('aggTrade'), value),
          E: value,
          s: fc.oneof(fc.constantFrom('BTCUSDT', 'ETHUSD_PERP', '币安人生USDT'), value),
          a: fc.oneof(fc.nat(), value),
          p: fc.oneof(fc.constantFrom('1.5', '0', '00012.3400'), value),
          q: fc.oneof(fc.constantFrom('2', '0.00000001'), value),
          f: fc.oneof(fc.nat(), value),
          l: fc.oneof(fc.nat(), value),
          T: fc.oneof(fc.constant(1_700_000_000_000), value),
          m: fc.oneof(fc.boolean(), value),
        },
        { requiredKeys: [] },
      );
      fc.assert(
        fc.property(event, fc.boolean(), (o, wrap) => {
          // Raw tokens are spliced in as text so that 1e309, NaN, -0 reach JSON.parse as written.
          const text = JSON.stringify(wrap ? { stream: `${String(o.s).toLowerCase()}@aggTrade`, data: o } : o).replace(/\{"raw":"((?:[^"\\]|\\.)*)"\}/g, (_m, t: string) => JSON.parse(`"${t}"`) as string);
          run('event-shaped', market, text);
          run('event-shaped-value', market, wrap ? { stream: `${String(o.s).toLowerCase()}@aggTrade`, data: o } : o);
        }),
        { seed: SEED + 2, numRuns: 5_000 },
      );
    });

    it(`${market}: mutated recorded frames (1-3 mutations each), as text and as Buffer`, () => {
      fc.assert(
        fc.property(fc.nat(frames.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (i, muts) => {
          let text = frames[i] as string;
          for (const m of muts) text = mutate(text, m);
          const asText = run('mutated', market, text);
          const asBuffer = run('mutated-buffer', market, Buffer.from(text, 'utf8'));
          // A trade parsed from text parses identically from its UTF-8 bytes.
          if (asText.kind === 'trade' && !/[\ud800-\udfff]/.test(text)) assert.deepEqual(asBuffer, asText);
        }),
        { seed: SEED + 3, numRuns: 12_000 },
      );
    });

    it(`${market}: random bytes as Buffer, Uint8Array and ArrayBuffer never throw`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(2), (bytes, how) => {
          const raw = how === 0 ? Buffer.from(bytes) : how === 1 ? bytes : bytes.slice().buffer;
          run('bytes', market, raw);
        }),
        { seed: SEED + 4, numRuns: 5_000 },
      );
    });

    it(`${market}: microsecond streams and tight limits hold the same invariants`, () => {
      fc.assert(
        fc.property(fc.nat(frames.length - 1), fc.array(mutationArb, { maxLength: 2 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 70 }), (i, muts, maxFrameBytes, maxDecimalLength) => {
          let text = frames[i] as string;
          for (const m of muts) text = mutate(text, m);
          run('options', market, text, { maxFrameBytes, maxDecimalLength });
          run('options-us', market, text.replace(/"([ET])":(\d{13})\b/g, (_m, k: string, v: string) => `"${k}":${v}123`), { timeUnit: 'MICROSECOND' });
        }),
        { seed: SEED + 5, numRuns: 2_000 },
      );
    });
  }

  it('targeted hostile frames give the expected typed errors', () => {
    const base = recorded.usdm[0] as string;
    const expectCode = (text: string | Buffer, code: string): void => {
      const r = run('targeted', 'usdm', text);
      assert.equal(r.kind, 'error', `${String(text).slice(0, 80)} → ${JSON.stringify(r)}`);
      assert.equal(r.kind === 'error' ? r.code : '', code, JSON.stringify(r));
    };
    expectCode(replaceValue(base, 'q', '1e309'), 'invalid-decimal');
    expectCode(replaceValue(base, 'q', 'NaN'), 'invalid-json');
    expectCode(replaceValue(base, 'p', '-0'), 'invalid-decimal');
    expectCode(replaceValue(base, 'p', '""'), 'invalid-decimal');
    expectCode(replaceValue(base, 'q', '12.5'), 'invalid-decimal');
    expectCode(replaceValue(base, 'a', '-0'), 'invalid-id');
    expectCode(replaceValue(base, 'a', '"16599292"'), 'invalid-id');
    expectCode(replaceValue(base, 'a', '9007199254740993'), 'invalid-id');
    expectCode(replaceValue(base, 'a', '1e309'), 'invalid-id');
    expectCode(replaceValue(base, 'T', '1e309'), 'invalid-time');
    expectCode(replaceValue(base, 's', '""'), 'invalid-symbol');
    expectCode(replaceValue(base, 's', '"BTC;--USDT"'), 'stream-mismatch');
    expectCode(replaceValue(base, 's', '"BTC\\u0000USDT"'), 'invalid-symbol');
    expectCode(replaceValue(base, 'data', deepNest(20_000)), 'invalid-field');
    expectCode(deepNest(20_000), 'not-object');
    expectCode(deepNest(200_000), 'too-large');
    expectCode('x'.repeat(10 * 1024 * 1024), 'too-large');
    expectCode(Buffer.alloc(10 * 1024 * 1024, 0x20), 'too-large');
    expectCode(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), 'binary');
    expectCode('', 'invalid-json');
  });
});
