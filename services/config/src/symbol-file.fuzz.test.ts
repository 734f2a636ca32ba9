/**
 * Fuzzing the symbol file parser (issue 5): arbitrary YAML-ish text, arbitrary documents
 * written out as YAML, and mutations of valid files (hostile symbols with quotes, `;`, `--`,
 * NUL, newlines, `:`, very long ones; anchors, tags, several documents, broken indentation...).
 * `parseSymbolFile` must never throw and must answer either valid symbols and selectors or
 * errors that name the file and, where there is one, a line and column inside the text.
 *
 * Seeded and bounded: the same inputs on every run; the counts are printed.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { MARKETS } from '@cvd/core';
import { MAX_SELECTOR_LIMIT, parseSymbolFile, SELECTOR_FILTERS, formatIssue, type FileIssue, type FileParseResult } from './symbol-file.js';
import { symbolProblem } from './symbol-rules.js';

const SEED = 0x5eed_0c0f;
const FILE = 'fuzz/symbols.yaml';
let total = 0;
const counts = new Map<string, number>();
const outcomes = { ok: 0, invalid: 0, symbols: 0, errors: 0 };
after(() => {
  const parts = [...counts].map(([k, n]) => `${k}=${n}`).join(' ');
  process.stdout.write(
    `# parseSymbolFile fuzz: ${total} inputs (${parts})\n# outcomes: ok=${outcomes.ok} invalid=${outcomes.invalid} symbols accepted=${outcomes.symbols} errors reported=${outcomes.errors}\n`,
  );
});

function checkIssue(issue: FileIssue, lines: number): void {
  assert.equal(issue.file, FILE);
  assert.ok(typeof issue.message === 'string' && issue.message.length > 0 && issue.message.length < 600, `message ${issue.message}`);
  if (issue.line !== undefined) assert.ok(Number.isInteger(issue.line) && issue.line >= 1 && issue.line <= lines + 1, `line ${issue.line} of ${lines}`);
  if (issue.column !== undefined) {
    assert.ok(issue.line !== undefined, 'a column comes with a line');
    assert.ok(Number.isInteger(issue.column) && issue.column >= 1, `column ${issue.column}`);
  }
  if (issue.field !== undefined) assert.equal(typeof issue.field, 'string');
  // The message is one line: a hostile value cannot forge extra log lines.
  assert.ok(!/[\r\n]/.test(formatIssue(issue)), `multi-line issue ${JSON.stringify(formatIssue(issue))}`);
}

function check(text: string, r: FileParseResult, maxBytes?: number): void {
  const lines = text.split(/\r\n|\r|\n/).length;
  for (const w of r.warnings) checkIssue(w, lines);
  if (!r.ok) {
    assert.ok(r.errors.length > 0, 'an invalid file has at least one error');
    for (const e of r.errors) checkIssue(e, lines);
    outcomes.invalid += 1;
    outcomes.errors += r.errors.length;
    return;
  }
  assert.ok(maxBytes === undefined || Buffer.byteLength(text) <= maxBytes);
  for (const m of MARKETS) {
    const list: readonly string[] = r.value.symbols[m];
    assert.equal(new Set(list).size, list.length, 'no duplicates');
    for (const s of list) assert.equal(symbolProblem(s), undefined, `accepted symbol ${JSON.stringify(s)}`);
    outcomes.symbols += list.length;
  }
  assert.deepEqual(Object.keys(r.value.symbols).sort(), [...MARKETS].sort());
  for (const sel of r.value.selectors) {
    assert.ok((MARKETS as readonly string[]).includes(sel.market));
    assert.ok(sel.limit === undefined || (Number.isInteger(sel.limit) && sel.limit >= 1 && sel.limit <= MAX_SELECTOR_LIMIT));
    for (const [k, values] of Object.entries(sel.filters)) {
      assert.ok((SELECTOR_FILTERS as readonly string[]).includes(k));
      for (const v of values ?? []) assert.equal(symbolProblem(v, k), undefined);
    }
    for (const x of sel.exclude) assert.equal(symbolProblem(x), undefined);
  }
  outcomes.ok += 1;
}

function run(kind: string, text: string, maxBytes?: number): FileParseResult {
  total += 1;
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const r = parseSymbolFile(text, maxBytes === undefined ? { file: FILE } : { file: FILE, maxBytes });
  check(text, r, maxBytes);
  return r;
}

const VALID_FILES: readonly string[] = [
  'spot: [BTCUSDT, ETHUSDT]\nusdm: [BTCUSDT, SOLUSDT]\ncoinm: [BTCUSD_PERP]\n',
  'spot:\n  - BTCUSDT\n  - "ETHUSDT"\n  - \'BNBUSDT\'\nusdm:\ncoinm: []\n',
  '# comment\nusdm:\n  - BTCUSDT # inline\nselectors:\n  - market: usdm\n    status: TRADING\n    quoteAsset: USDT\n    contractType: PERPETUAL\n    exclude: [USDCUSDT]\n    limit: 300\n',
  'selectors:\n  - { market: spot, quoteAsset: [USDT, FDUSD], limit: 10 }\n  - market: coinm\n    baseAsset: BTC\n',
  'spot: ["币安人生USDT", BTCUSDT]\n',
  '\ufeffspot: [BTCUSDT]\r\nusdm: [ETHUSDT]\r\n',
];

/** Symbols a hostile user might type: injection characters, invisible ones, huge ones. */
const HOSTILE_SYMBOLS: readonly string[] = [
  "BTC'USDT",
  "'; DROP TABLE cvd_bars_1m; --",
  'BTCUSDT;rm -rf /',
  'BTC--USDT',
  'BTCUSDT--',
  'BTC\u0000USDT',
  'BTC\nUSDT',
  'BTC\r\nINFO fake log line',
  'usdm:BTCUSDT',
  'BTC:USDT',
  'BTC USDT',
  'btcusdt',
  'BTC"USDT',
  'BTC\\USDT',
  '../../etc/passwd',
  'BTC%00USDT',
  '$(reboot)',
  '`id`',
  'BTC\u200bUSDT',
  'BTC\u202eUSDT',
  'BTC\ufeffUSDT',
  'A'.repeat(65),
  'A'.repeat(10_000),
  '',
  '~',
  'null',
  '0x10',
  '1e309',
  '-0',
  '.nan',
  '.inf',
  '🚀USDT',
];

/** Raw YAML fragments dropped into list items or values. */
const HOSTILE_YAML: readonly string[] = [
  '*alias',
  '&anchor BTCUSDT',
  '!!binary aGVsbG8=',
  '!!js/function "function(){}"',
  '!custom BTCUSDT',
  '!!str 123',
  '!!map {}',
  '? complex key',
  '{a: 1}',
  '[nested, [list]]',
  '|\n    block',
  '>\n    folded',
  '123',
  '1e309',
  '.nan',
  '-.inf',
  '0o17',
  'true',
  'yes',
  '~',
  '"unterminated',
  "'unterminated",
  '"\\x00"',
  '"\\u0000"',
  '"a\\nb"',
  '---',
  '...',
  '%YAML 1.1',
  '<<: *base',
  '@reserved',
  '`backtick',
];

function yamlScalar(s: string): string {
  return JSON.stringify(s);
}

type Mutation =
  | { op: 'item'; market: string; value: string; quoted: boolean }
  | { op: 'raw'; line: number; text: string }
  | { op: 'insert'; at: number; text: string }
  | { op: 'remove'; at: number; len: number }
  | { op: 'flip'; at: number; code: number }
  | { op: 'indent'; line: number; by: number }
  | { op: 'dupline'; line: number }
  | { op: 'truncate'; at: number }
  | { op: 'key'; key: string; value: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('item' as const),
      market: fc.constantFrom(...MARKETS, 'selectors', 'SPOT', 'futures'),
      value: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...HOSTILE_SYMBOLS) }, fc.string({ maxLength: 20, unit: 'binary' }), fc.stringMatching(/^[A-Z0-9_]{1,12}$/)),
      quoted: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('raw' as const), line: fc.nat(20), text: fc.oneof(fc.constantFrom(...HOSTILE_YAML).map((y) => `  - ${y}`), fc.constantFrom(...HOSTILE_YAML)) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(300), text: fc.oneof(fc.string({ maxLength: 3, unit: 'binary' }), fc.constantFrom(':', '-', ' ', '\n', '\t', '#', '[', ']', '{', '}', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`')) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), at: fc.nat(300), len: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(300), code: fc.integer({ min: 0, max: 0x10ffff }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('indent' as const), line: fc.nat(20), by: fc.integer({ min: -4, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dupline' as const), line: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat(300) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('key' as const),
      key: fc.constantFrom(...MARKETS, 'selectors', 'limit', 'market', '__proto__', 'constructor', '<<', 'spot ', '"spot"', '? spot'),
      value: fc.constantFrom('[]', '', '~', 'BTCUSDT', '{}', '[BTCUSDT, BTCUSDT]', '[{market: usdm, limit: 0}]', '[{market: usdm, limit: 10001}]', '[{market: spot, contractType: PERPETUAL}]', '- a\n- b'),
    }),
  },
);

function mutate(text: string, m: Mutation): string {
  const at = (n: number): number => n % (text.length + 1);
  const lines = text.split('\n');
  const li = (n: number): number => n % Math.max(1, lines.length);
  switch (m.op) {
    case 'item':
      return `${text}${text.endsWith('\n') ? '' : '\n'}${m.market}:\n  - ${m.quoted ? yamlScalar(m.value) : m.value}\n`;
    case 'raw':
      lines.splice(li(m.line), 0, m.text);
      return lines.join('\n');
    case 'insert':
      return text.slice(0, at(m.at)) + m.text + text.slice(at(m.at));
    case 'remove':
      return text.slice(0, at(m.at)) + text.slice(at(m.at) + m.len);
    case 'flip': {
      const i = at(m.at);
      return text.slice(0, i) + String.fromCodePoint(m.code) + text.slice(i + 1);
    }
    case 'indent': {
      const i = li(m.line);
      const l = lines[i] ?? '';
      lines[i] = m.by >= 0 ? ' '.repeat(m.by) + l : l.slice(Math.min(-m.by, l.length - l.trimStart().length));
      return lines.join('\n');
    }
    case 'dupline': {
      const i = li(m.line);
      lines.splice(i, 0, lines[i] ?? '');
      return lines.join('\n');
    }
    case 'truncate':
      return text.slice(0, at(m.at));
    case 'key':
      return `${text}${text.endsWith('\n') ? '' : '\n'}${m.key}: ${m.value}\n`;
  }
}

describe('parseSymbolFile fuzzing (seeded, bounded)', () => {
  it('arbitrary text (full Unicode, YAML punctuation) never throws', () => {
    const yamlish = fc.string({ maxLength: 120, unit: fc.constantFrom(...'spotusdmcoinmselectorsBTCUSDT-:[]{},#&*!|>\'"% \n\t?@`~.0123456789') });
    fc.assert(
      fc.property(fc.oneof(yamlish, fc.string({ maxLength: 120, unit: 'binary' }), fc.string({ maxLength: 80 })), (text) => {
        run('text', text);
      }),
      { seed: SEED, numRuns: 55_000 },
    );
  });

  it('arbitrary documents written as YAML never throw', () => {
    const doc = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.dictionary(fc.constantFrom(...MARKETS, 'selectors', 'other'), fc.oneof(fc.array(fc.oneof(fc.constantFrom(...HOSTILE_SYMBOLS), fc.jsonValue({ maxDepth: 1 })), { maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }))),
    );
    fc.assert(
      fc.property(doc, fc.boolean(), (value, flow) => {
        run('document', stringify(value, flow ? { collectionStyle: 'flow' } : {}));
      }),
      { seed: SEED + 1, numRuns: 6_000 },
    );
  });

  it('mutated valid files (1-4 mutations each) never throw; errors are located', () => {
    fc.assert(
      fc.property(fc.nat(VALID_FILES.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (i, muts) => {
        let text = VALID_FILES[i] as string;
        for (const m of muts) text = mutate(text, m);
        run('mutated', text);
      }),
      { seed: SEED + 2, numRuns: 40_000 },
    );
  });

  it('the byte limit holds for any text', () => {
    fc.assert(
      fc.property(fc.nat(VALID_FILES.length - 1), fc.integer({ min: 1, max: 200 }), (i, maxBytes) => {
        run('limit', VALID_FILES[i] as string, maxBytes);
      }),
      { seed: SEED + 3, numRuns: 2_000 },
    );
  });

  it('every hostile symbol, quoted or not, is refused with a located message naming the cause', () => {
    for (const market of MARKETS) {
      for (const s of HOSTILE_SYMBOLS) {
        for (const text of [`${market}:\n  - OKUSDT\n  - ${JSON.stringify(s)}\n`, `${market}: [OKUSDT, ${JSON.stringify(s)}]\n`]) {
          const r = run('hostile', text);
          const problem = symbolProblem(s);
          if (problem === undefined) {
            // Syntactically a symbol (e.g. `BTC--USDT`): accepted here, checked against exchangeInfo by the service.
            assert.ok(r.ok, `${JSON.stringify(s)}: ${JSON.stringify(r)}`);
            continue;
          }
          assert.equal(r.ok, false, `${JSON.stringify(s)} must be refused`);
          const err = r.ok ? undefined : r.errors[0];
          assert.equal(err?.line, text.includes('\n  - OKUSDT') ? 3 : 1, `${JSON.stringify(s)}: ${JSON.stringify(err)}`);
          assert.equal(err?.field, `${market}[1]`);
          assert.ok((err?.message.length ?? 0) < 300, 'a 10,000-character symbol is shortened in the message');
        }
      }
    }
  });

  it('a billion-laughs document is refused unexpanded and a huge file by its size', () => {
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    laughs.push('spot: *j');
    const r = run('laughs', laughs.join('\n'));
    assert.equal(r.ok, false);
    const huge = `spot:\n${'  - BTCUSDT\n'.repeat(120_000)}`;
    const h = run('huge', huge);
    assert.equal(h.ok, false);
    assert.match(h.ok ? '' : (h.errors[0]?.message ?? ''), /more than the limit of 1048576 bytes/);
    // Refused, not expanded: the alias itself is the error (the huge file is refused by size above).
    assert.ok(!r.ok && r.errors.some((e) => /^spot\b/.test(e.field ?? '') && /aliases are not supported/.test(e.message)), JSON.stringify(r));
  });
});
