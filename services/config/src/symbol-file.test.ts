import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { formatIssue, loadSymbolFile, parseSymbolFile, type FileParseResult } from './symbol-file.js';

const F = 'symbols.yaml';
const parse = (text: string, maxBytes?: number): FileParseResult => parseSymbolFile(text, maxBytes === undefined ? { file: F } : { file: F, maxBytes });

function errorsOf(text: string, maxBytes?: number): string[] {
  const r = parse(text, maxBytes);
  assert.equal(r.ok, false, `expected ${JSON.stringify(text.slice(0, 60))} to be invalid`);
  return r.ok ? [] : r.errors.map(formatIssue);
}

function valid(text: string) {
  const r = parse(text);
  if (!r.ok) assert.fail(`expected valid, got ${r.errors.map(formatIssue).join('\n')}`);
  return r;
}

describe('symbol file: valid input', () => {
  test('the documented example', () => {
    const r = valid(`spot: [BTCUSDT, ETHUSDT]
usdm: [BTCUSDT, SOLUSDT]
coinm: [BTCUSD_PERP]
selectors:
  - market: usdm
    status: TRADING
    quoteAsset: USDT
    contractType: PERPETUAL
    exclude: [USDCUSDT]
    limit: 300        # optional
`);
    assert.deepEqual(r.value.symbols, { spot: ['BTCUSDT', 'ETHUSDT'], usdm: ['BTCUSDT', 'SOLUSDT'], coinm: ['BTCUSD_PERP'] });
    assert.equal(r.value.selectors.length, 1);
    const s = r.value.selectors[0];
    assert.equal(s?.market, 'usdm');
    assert.deepEqual(s?.filters, { status: ['TRADING'], quoteAsset: ['USDT'], contractType: ['PERPETUAL'] });
    assert.deepEqual(s?.exclude, ['USDCUSDT']);
    assert.equal(s?.limit, 300);
    assert.equal(s?.line, 5);
    assert.deepEqual(r.warnings, []);
  });

  test('block lists, missing markets, empty lists, null lists, non-ASCII and quoted symbols', () => {
    const r = valid(`# the old monitor's symbols
spot:
  - BTCUSDT
  - "1000SATSUSDT"
usdm: []
coinm:
selectors: []
`);
    assert.deepEqual(r.value.symbols, { spot: ['BTCUSDT', '1000SATSUSDT'], usdm: [], coinm: [] });
    assert.deepEqual(valid('spot: [币安人生USDT]').value.symbols.spot, ['币安人生USDT']);
    assert.deepEqual(valid('usdm: [BTCUSDT]').value.symbols.spot, []);
  });

  test('filter values may be lists; a UTF-8 BOM is ignored', () => {
    const r = valid('\ufeffselectors:\n  - market: coinm\n    status: [TRADING, PENDING_TRADING]\n    baseAsset: BTC\n');
    assert.deepEqual(r.value.selectors[0]?.filters, { status: ['PENDING_TRADING', 'TRADING'], baseAsset: ['BTC'] });
  });

  test('duplicates are warnings, not errors, and are dropped', () => {
    const r = valid('spot: [BTCUSDT, ETHUSDT, BTCUSDT]\nusdm: [BTCUSDT]\n');
    assert.deepEqual(r.value.symbols.spot, ['BTCUSDT', 'ETHUSDT']);
    assert.deepEqual(r.value.symbols.usdm, ['BTCUSDT'], 'the same symbol in another market is no duplicate');
    assert.equal(r.warnings.length, 1);
    assert.equal(formatIssue(r.warnings[0]!), 'symbols.yaml:1:26 spot[2]: duplicate symbol "BTCUSDT" in spot (first on line 1); ignored');
  });

  test('duplicate selectors warn; a selector without filter or limit warns', () => {
    const r = valid('selectors:\n  - { market: usdm, quoteAsset: USDT }\n  - { quoteAsset: USDT, market: usdm }\n  - { market: spot }\n');
    assert.equal(r.value.selectors.length, 2);
    const w = r.warnings.map(formatIssue);
    assert.match(w[0] ?? '', /^symbols\.yaml:3:5 selectors\[1\]: duplicate selector \(same as the one on line 2\); ignored$/);
    assert.match(w[1] ?? '', /selectors\[2\]: selector takes every spot symbol/);
  });
});

describe('symbol file: every error message', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty file', '', /^symbols\.yaml: file is empty; to publish no symbols at all, write `spot: \[\]` explicitly$/],
    ['comments only', '# nothing\n', /file is empty/],
    ['not a map', '- BTCUSDT\n', /^symbols\.yaml:1:1: expected a map with keys spot, usdm, coinm, selectors, got a list$/],
    ['scalar document', 'BTCUSDT\n', /expected a map .* got the text "BTCUSDT"/],
    ['invalid YAML', 'spot: [BTCUSDT\n', /^symbols\.yaml:\d+:\d+: YAML: /],
    ['tab indentation', 'spot:\n\t- BTCUSDT\n', /YAML: /],
    ['duplicate key', 'spot: [A]\nspot: [B]\n', /^symbols\.yaml:2:1: YAML: Map keys must be unique/],
    ['multiple documents', 'spot: [A]\n---\nusdm: [B]\n', /YAML: the file holds several YAML documents \(---\); keep one/],
    ['unknown key (unknown market)', 'futures: [BTCUSDT]\n', /^symbols\.yaml:1:1 futures: unknown key "futures" \(expected spot, usdm, coinm, selectors; markets are spot, usdm, coinm\)$/],
    ['non-text key', '1: [BTCUSDT]\n', /^symbols\.yaml:1:1: expected a plain text key, got the number 1$/],
    ['list expected', 'spot: BTCUSDT\n', /^symbols\.yaml:1:7 spot: expected a list of symbols like \[BTCUSDT, ETHUSDT\], got the text "BTCUSDT"$/],
    ['map instead of list', 'spot: { a: 1 }\n', /spot: expected a list of symbols .* got a map/],
    ['number symbol', 'spot: [123]\n', /^symbols\.yaml:1:8 spot\[0\]: expected a symbol string, got the number 123; quote it if it really is a symbol$/],
    ['boolean symbol', 'spot: [true]\n', /spot\[0\]: expected a symbol string, got the boolean true/],
    ['null symbol', 'spot: [~]\n', /spot\[0\]: expected a symbol string, got null/],
    ['nested list', 'spot: [[BTCUSDT]]\n', /spot\[0\]: expected a symbol string, got a list/],
    ['empty symbol', 'spot: [""]\n', /spot\[0\]: symbol is empty/],
    ['space', 'spot: ["BTC USDT"]\n', /^symbols\.yaml:1:8 spot\[0\]: symbol "BTC USDT" contains whitespace$/],
    ['double quote', `spot: ['BTC"USDT']\n`, /symbol "BTC\\"USDT" contains the forbidden character "\\""/],
    ['single quote', `spot: ["BTC'USDT"]\n`, /contains the forbidden character "'"/],
    ['semicolon', 'spot: ["BTCUSDT;DROP TABLE x"]\n', /contains whitespace|forbidden character ";"/],
    ['semicolon alone', 'spot: ["BTCUSDT;rm"]\n', /symbol "BTCUSDT;rm" has lower-case|forbidden character ";"/],
    ['colon (key separator)', 'spot: ["usdm:BTC"]\n', /forbidden character ":"/],
    ['newline', 'spot: ["BTC\\nUSDT"]\n', /contains a control or invisible character/],
    ['NUL', 'spot: ["BTC\\0USDT"]\n', /contains a control or invisible character/],
    ['zero-width space', 'spot: ["BTC\\u200bUSDT"]\n', /contains a control or invisible character/],
    ['backtick and $', 'spot: ["$(reboot)"]\n', /forbidden character "\$"/],
    ['slash', 'spot: ["../etc"]\n', /forbidden character "\/"/],
    ['lower case', 'spot: [btcusdt]\n', /symbol "btcusdt" has lower-case letters; Binance spells it in upper case \(did you mean "BTCUSDT"\?\)/],
    ['too long', `spot: [${'A'.repeat(65)}]\n`, /is longer than 64 characters/],
    ['alias', 'spot: &s [BTCUSDT]\nusdm: *s\n', /usdm: expected a list of symbols .* got an alias|aliases/],
    ['alias item', 'spot: [&a BTCUSDT, *a]\n', /spot\[1\]: YAML aliases \(\*name\) are not supported here; write the value out/],
    ['unknown tag', 'spot: [!evil BTCUSDT]\n', /YAML: .*tag/i],
    ['selectors not a list', 'selectors: { market: usdm }\n', /^symbols\.yaml:1:12 selectors: expected a list of selectors \(each a map with a market\), got a map$/],
    ['selector not a map', 'selectors: [usdm]\n', /selectors\[0\]: expected a map like \{ market: usdm, quoteAsset: USDT \}, got the text "usdm"/],
    ['selector without market', 'selectors:\n  - quoteAsset: USDT\n', /^symbols\.yaml:2:5 selectors\[0\]: selector has no market \(expected one of spot, usdm, coinm\)$/],
    ['selector unknown market', 'selectors:\n  - market: futures\n', /^symbols\.yaml:2:13 selectors\[0\]\.market: unknown market "futures" \(expected one of spot, usdm, coinm\)$/],
    ['selector market list', 'selectors:\n  - market: [usdm]\n', /selectors\[0\]\.market: expected a market name, got a list/],
    ['selector unknown key', 'selectors:\n  - market: usdm\n    quote: USDT\n', /^symbols\.yaml:3:5 selectors\[0\]\.quote: unknown selector key "quote" \(expected market, status, quoteAsset, baseAsset, contractType, exclude, limit\)$/],
    ['selector bad filter value', 'selectors:\n  - market: usdm\n    quoteAsset: "US DT"\n', /selectors\[0\]\.quoteAsset: quoteAsset "US DT" contains whitespace/],
    ['selector filter lower case', 'selectors:\n  - market: usdm\n    status: trading\n', /status "trading" has lower-case letters/],
    ['selector empty filter', 'selectors:\n  - market: usdm\n    status:\n', /selectors\[0\]\.status: expected a status or a list of them, got nothing/],
    ['selector bad exclude', 'selectors:\n  - market: usdm\n    exclude: ["A;B"]\n', /selectors\[0\]\.exclude\[0\]: symbol "A;B" contains the forbidden character ";"/],
    ['selector limit zero', 'selectors:\n  - market: usdm\n    limit: 0\n', /selectors\[0\]\.limit: expected a whole number from 1 to 10000, got the number 0/],
    ['selector limit fraction', 'selectors:\n  - market: usdm\n    limit: 1.5\n', /limit: expected a whole number/],
    ['selector limit text', 'selectors:\n  - market: usdm\n    limit: many\n', /limit: expected a whole number from 1 to 10000, got the text "many"/],
    ['selector limit huge', 'selectors:\n  - market: usdm\n    limit: 1e9\n', /limit: expected a whole number/],
    ['contractType on spot', 'selectors:\n  - market: spot\n    contractType: PERPETUAL\n', /selectors\[0\]\.contractType: contractType applies to futures \(usdm, coinm\) only/],
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => {
      const errors = errorsOf(text);
      assert.ok(errors.some((e) => expected.test(e)), `no error matches ${expected}:\n${errors.join('\n')}`);
    });
  }

  test('all errors are reported at once', () => {
    const errors = errorsOf('spot: [BTCUSDT, "A B", "C;D"]\nusdm: [x]\nfoo: 1\n');
    assert.equal(errors.length, 4, errors.join('\n'));
  });

  test('oversize text is refused before parsing', () => {
    const errors = errorsOf(`spot: [${'BTCUSDT, '.repeat(200)}ETHUSDT]\n`, 1000);
    assert.match(errors[0] ?? '', /^symbols\.yaml: file is \d+ bytes, more than the limit of 1000 bytes$/);
  });

  test('an alias bomb is rejected, not expanded', () => {
    const lines = ['a: &a [BTCUSDT, BTCUSDT, BTCUSDT, BTCUSDT, BTCUSDT, BTCUSDT, BTCUSDT, BTCUSDT, BTCUSDT]'];
    for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    lines.push('spot: *l');
    const errors = errorsOf(lines.join('\n'));
    assert.ok(errors.some((e) => /^symbols\.yaml:\d+:\d+ spot: .*aliases are not supported/.test(e)), errors.join('\n'));
    assert.ok(errors.length > 0);
  });

  test('hostile random bytes never throw', () => {
    let seed = 42;
    const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const alphabet = 'spotusdmcoinmselectors:[]{},-&*!|>\'"#\n\t :;BTCUSDT\u0000\u200b币';
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(rand() * 120);
      let text = '';
      for (let j = 0; j < n; j++) text += alphabet[Math.floor(rand() * alphabet.length)];
      const r = parse(text);
      if (r.ok) {
        for (const m of ['spot', 'usdm', 'coinm'] as const) for (const s of r.value.symbols[m]) assert.doesNotMatch(s, /[\s:;'"\u0000\u200b]/u);
      }
    }
  });
});

describe('loadSymbolFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cvd-config-file-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('reads, hashes and parses a file', async () => {
    const p = join(dir, 'ok.yaml');
    writeFileSync(p, 'spot: [BTCUSDT]\n');
    const r = await loadSymbolFile(p);
    assert.equal(r.ok, true);
    assert.match(r.hash ?? '', /^[0-9a-f]{64}$/);
  });

  test('missing file', async () => {
    const r = await loadSymbolFile(join(dir, 'nope.yaml'), { file: 'config/nope.yaml' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(formatIssue(r.errors[0]!), 'config/nope.yaml: file does not exist');
  });

  test('a directory is not a file', async () => {
    mkdirSync(join(dir, 'sub'));
    const r = await loadSymbolFile(join(dir, 'sub'));
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.errors[0]?.message ?? '', /not a regular file/);
  });

  test('a huge file is refused without reading it', async () => {
    const p = join(dir, 'huge.yaml');
    writeFileSync(p, `spot: [${'BTCUSDT, '.repeat(200_000)}ETHUSDT]\n`);
    const r = await loadSymbolFile(p, { maxBytes: 64 * 1024 });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.errors[0]?.message ?? '', /^file is \d+ bytes, more than the limit of 65536 bytes$/);
    assert.equal(r.hash, undefined);
  });

  test('bytes that are not UTF-8', async () => {
    const p = join(dir, 'latin1.yaml');
    writeFileSync(p, Buffer.from([0x73, 0x70, 0x6f, 0x74, 0x3a, 0x20, 0x5b, 0xff, 0xfe, 0x5d, 0x0a]));
    const r = await loadSymbolFile(p);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.errors[0]?.message ?? '', /not valid UTF-8/);
  });
});

test('the committed symbols.example.yaml is valid and warning-free', async () => {
  const r = await loadSymbolFile(new URL('../symbols.example.yaml', import.meta.url).pathname);
  assert.equal(r.ok, true, r.ok ? '' : r.errors.map(formatIssue).join('\n'));
  assert.deepEqual(r.warnings, []);
});
