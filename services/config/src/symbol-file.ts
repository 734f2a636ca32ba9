/**
 * The symbol file: lists of spot / USD-M / COIN-M symbols (as the old monitor's config file
 * had) plus selectors resolved through Binance `exchangeInfo`.
 *
 * ```yaml
 * spot: [BTCUSDT, ETHUSDT]
 * usdm: [BTCUSDT, SOLUSDT]
 * coinm: [BTCUSD_PERP]
 * selectors:
 *   - market: usdm
 *     status: TRADING
 *     quoteAsset: USDT
 *     contractType: PERPETUAL
 *     exclude: [USDCUSDT]
 *     limit: 300
 * ```
 *
 * Parsing is pure (text in, result out) and walks the YAML syntax tree rather than a plain JS
 * value, so every message carries the line and column of the offending node. Anything wrong
 * makes the whole file invalid: a half-applied file would be worse than the previous one.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { MARKETS, type Market } from '@cvd/core';
import { marketProblem, symbolProblem } from './symbol-rules.js';

/** Largest accepted file by default (1 MiB ≈ 60,000 symbols: far beyond any real set). */
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
/** Longest YAML syntax message kept (the library quotes the offending token in full). */
const MAX_YAML_MESSAGE_CHARS = 200;
/** Largest accepted selector `limit`. */
export const MAX_SELECTOR_LIMIT = 10_000;

export const SELECTOR_FILTERS = ['status', 'quoteAsset', 'baseAsset', 'contractType'] as const;
export type SelectorFilter = (typeof SELECTOR_FILTERS)[number];
const SELECTOR_KEYS = ['market', ...SELECTOR_FILTERS, 'exclude', 'limit'] as const;
const TOP_KEYS = [...MARKETS, 'selectors'] as const;

/** One `selectors` entry: every symbol of `market` whose exchangeInfo matches all filters. */
export interface Selector {
  readonly market: Market;
  /** Each filter matches when the symbol's field equals one of the values. */
  readonly filters: Readonly<Partial<Record<SelectorFilter, readonly string[]>>>;
  readonly exclude: readonly string[];
  /** At most this many symbols, in exchangeInfo order (new listings come last, so the set stays stable). */
  readonly limit: number | undefined;
  /** Canonical text of the selector: identifies it across reloads. */
  readonly id: string;
  /** 1-based line of the selector in the file (for messages). */
  readonly line: number | undefined;
}

export interface SymbolFile {
  /** Per market, the listed symbols without duplicates, in file order. */
  readonly symbols: Readonly<Record<Market, readonly string[]>>;
  readonly selectors: readonly Selector[];
}

/** One problem, located as precisely as the input allows. */
export interface FileIssue {
  readonly file: string;
  /** 1-based. */
  readonly line?: number;
  /** 1-based. */
  readonly column?: number;
  /** Where in the document: `usdm[2]`, `selectors[0].quoteAsset`. */
  readonly field?: string;
  readonly message: string;
}

export type FileParseResult =
  | { readonly ok: true; readonly value: SymbolFile; readonly warnings: readonly FileIssue[] }
  | { readonly ok: false; readonly errors: readonly FileIssue[]; readonly warnings: readonly FileIssue[] };

/** `symbols.yaml:4:7 usdm[2]: symbol "BTC USDT" contains whitespace` — the compiler convention. */
export function formatIssue(issue: FileIssue): string {
  const at = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}${issue.column === undefined ? '' : `:${issue.column}`}`;
  return `${at}${issue.field === undefined ? '' : ` ${issue.field}`}: ${issue.message}`;
}

export interface ParseOptions {
  /** Name used in messages (the path as configured). */
  readonly file: string;
  /** @defaultValue {@link DEFAULT_MAX_FILE_BYTES} */
  readonly maxBytes?: number;
}

function describeNode(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isAlias(node)) return 'an alias (*name; aliases are not supported)';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    return typeof v === 'string' ? `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}` : `the ${typeof v} ${String(v)}`;
  }
  return 'an unsupported value';
}

/** Parses and validates the text of a symbol file. Never throws. */
export function parseSymbolFile(text: string, options: ParseOptions): FileParseResult {
  const file = options.file;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  const errors: FileIssue[] = [];
  const warnings: FileIssue[] = [];
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    return { ok: false, errors: [{ file, message: `file is ${bytes} bytes, more than the limit of ${maxBytes} bytes` }], warnings };
  }

  const lines = new LineCounter();
  const doc = parseDocument(text.startsWith('\ufeff') ? text.slice(1) : text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    version: '1.2',
  });
  const at = (node: unknown, field?: string): Pick<FileIssue, 'line' | 'column' | 'field'> => {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    const base = field === undefined ? {} : { field };
    if (range === undefined) return base;
    const pos = lines.linePos(range[0]);
    return { ...base, line: pos.line, column: pos.col };
  };
  const error = (node: unknown, field: string | undefined, message: string): void => {
    errors.push({ file, ...at(node, field), message });
  };

  // YAML syntax errors (and warnings such as unresolved tags) make the file invalid.
  for (const e of [...doc.errors, ...doc.warnings]) {
    const pos = lines.linePos(e.pos[0]);
    const first = e.message.split('\n', 1)[0] ?? e.message;
    // The YAML library quotes the offending token whole: a hostile 1 MiB token must not become a 1 MiB log line.
    const short = first.length > MAX_YAML_MESSAGE_CHARS ? `${first.slice(0, MAX_YAML_MESSAGE_CHARS)}…` : first;
    const message = e.code === 'MULTIPLE_DOCS' ? 'the file holds several YAML documents (---); keep one' : short;
    errors.push({ file, line: pos.line, column: pos.col, message: `YAML: ${message}` });
  }
  if (errors.length > 0) return { ok: false, errors, warnings };

  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) {
    return {
      ok: false,
      errors: [{ file, message: 'file is empty; to publish no symbols at all, write `spot: []` explicitly' }],
      warnings,
    };
  }
  if (!isMap(root)) {
    error(root, undefined, `expected a map with keys ${TOP_KEYS.join(', ')}, got ${describeNode(root)}`);
    return { ok: false, errors, warnings };
  }

  const symbols: Record<Market, string[]> = { spot: [], usdm: [], coinm: [] };
  const selectors: Selector[] = [];
  for (const pair of (root as YAMLMap<unknown, unknown>).items) {
    const name = keyName(pair);
    if (name === undefined) {
      error(pair.key, undefined, `expected a plain text key, got ${describeNode(pair.key)}`);
      continue;
    }
    if ((MARKETS as readonly string[]).includes(name)) {
      readSymbolList(pair.value, name, name as Market);
    } else if (name === 'selectors') {
      readSelectors(pair.value);
    } else {
      error(pair.key, name, `unknown key ${JSON.stringify(name)} (expected ${TOP_KEYS.join(', ')}; markets are ${MARKETS.join(', ')})`);
    }
  }
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, value: { symbols, selectors }, warnings };

  function readSymbolList(value: unknown, field: string, market: Market): void {
    if (value === null || (isScalar(value) && value.value === null)) return; // `usdm:` alone = none
    if (!isSeq(value)) {
      error(value, field, `expected a list of symbols like [BTCUSDT, ETHUSDT], got ${describeNode(value)}`);
      return;
    }
    const seen = new Map<string, number | undefined>();
    value.items.forEach((item, i) => {
      const symbol = readSymbol(item, `${field}[${i}]`);
      if (symbol === undefined) return;
      if (seen.has(symbol)) {
        const first = seen.get(symbol);
        warnings.push({
          file,
          ...at(item, `${field}[${i}]`),
          message: `duplicate symbol ${JSON.stringify(symbol)} in ${market}${first === undefined ? '' : ` (first on line ${first})`}; ignored`,
        });
        return;
      }
      seen.set(symbol, at(item).line);
      symbols[market].push(symbol);
    });
  }

  function readSymbol(item: unknown, field: string, what = 'symbol'): string | undefined {
    if (isAlias(item)) {
      error(item, field, 'YAML aliases (*name) are not supported here; write the value out');
      return undefined;
    }
    if (!isScalar(item)) {
      error(item, field, `expected a ${what} string, got ${describeNode(item)}`);
      return undefined;
    }
    if (typeof item.value !== 'string') {
      error(item, field, `expected a ${what} string, got ${describeNode(item)}; quote it if it really is a ${what}`);
      return undefined;
    }
    const problem = symbolProblem(item.value, what);
    if (problem !== undefined) {
      error(item, field, problem);
      return undefined;
    }
    return item.value;
  }

  function readSelectors(value: unknown): void {
    if (value === null || (isScalar(value) && value.value === null)) return;
    if (!isSeq(value)) {
      error(value, 'selectors', `expected a list of selectors (each a map with a market), got ${describeNode(value)}`);
      return;
    }
    const ids = new Map<string, number | undefined>();
    value.items.forEach((item, i) => {
      const selector = readSelector(item, `selectors[${i}]`);
      if (selector === undefined) return;
      if (ids.has(selector.id)) {
        const first = ids.get(selector.id);
        warnings.push({
          file,
          ...at(item, `selectors[${i}]`),
          message: `duplicate selector${first === undefined ? '' : ` (same as the one on line ${first})`}; ignored`,
        });
        return;
      }
      ids.set(selector.id, selector.line);
      selectors.push(selector);
    });
  }

  function readSelector(node: unknown, field: string): Selector | undefined {
    if (!isMap(node)) {
      error(node, field, `expected a map like { market: usdm, quoteAsset: USDT }, got ${describeNode(node)}`);
      return undefined;
    }
    const before = errors.length;
    let market: Market | undefined;
    let marketSeen = false;
    const filters: Partial<Record<SelectorFilter, string[]>> = {};
    let exclude: string[] = [];
    let limit: number | undefined;
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      const name = keyName(pair);
      const f = `${field}.${name ?? '?'}`;
      if (name === undefined) {
        error(pair.key, field, `expected a plain text key, got ${describeNode(pair.key)}`);
        continue;
      }
      switch (name) {
        case 'market': {
          marketSeen = true;
          const v = isScalar(pair.value) ? pair.value.value : undefined;
          const problem = marketProblem(v);
          if (problem === undefined) market = v as Market;
          else error(pair.value ?? pair.key, f, isScalar(pair.value) ? problem : `expected a market name, got ${describeNode(pair.value)}`);
          break;
        }
        case 'status':
        case 'quoteAsset':
        case 'baseAsset':
        case 'contractType': {
          const values = readValues(pair.value, f, name);
          if (values !== undefined) filters[name] = values;
          break;
        }
        case 'exclude':
          exclude = readValues(pair.value, f, 'symbol') ?? [];
          break;
        case 'limit': {
          const v = isScalar(pair.value) ? pair.value.value : undefined;
          if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_SELECTOR_LIMIT) limit = v;
          else error(pair.value ?? pair.key, f, `expected a whole number from 1 to ${MAX_SELECTOR_LIMIT}, got ${describeNode(pair.value)}`);
          break;
        }
        default:
          error(pair.key, f, `unknown selector key ${JSON.stringify(name)} (expected ${SELECTOR_KEYS.join(', ')})`);
      }
    }
    if (!marketSeen) error(node, field, `selector has no market (expected one of ${MARKETS.join(', ')})`);
    if (market === 'spot' && filters.contractType !== undefined) {
      error(node, `${field}.contractType`, 'contractType applies to futures (usdm, coinm) only; spot symbols have none');
    }
    if (errors.length > before || market === undefined) return undefined;
    if (Object.keys(filters).length === 0 && limit === undefined) {
      warnings.push({ file, ...at(node, field), message: `selector takes every ${market} symbol on the exchange; add a filter or a limit if that is not intended` });
    }
    const sorted = Object.fromEntries(SELECTOR_FILTERS.filter((k) => filters[k] !== undefined).map((k) => [k, [...(filters[k] ?? [])].sort()]));
    const id = JSON.stringify({ market, ...sorted, exclude: [...exclude].sort(), limit: limit ?? null });
    return { market, filters: sorted, exclude, limit, id, line: at(node).line };
  }

  /** One value or a list of values (`status: TRADING` or `status: [TRADING, SETTLING]`). */
  function readValues(value: unknown, field: string, what: string): string[] | undefined {
    if (isSeq(value)) {
      const out: string[] = [];
      value.items.forEach((item, i) => {
        const v = readSymbol(item, `${field}[${i}]`, what);
        if (v !== undefined && !out.includes(v)) out.push(v);
      });
      return out;
    }
    if (value === null || (isScalar(value) && value.value === null)) {
      error(value, field, `expected a ${what} or a list of them, got nothing`);
      return undefined;
    }
    const v = readSymbol(value, field, what);
    return v === undefined ? undefined : [v];
  }
}

function keyName(pair: Pair<unknown, unknown>): string | undefined {
  return isScalar(pair.key) && typeof pair.key.value === 'string' ? pair.key.value : undefined;
}

/** What {@link loadSymbolFile} read. */
export type FileLoadResult = FileParseResult & {
  /** SHA-256 of the bytes read (undefined when the file could not be read). */
  readonly hash: string | undefined;
};

/**
 * Reads and parses the file. Refuses before reading anything when the file is larger than
 * `maxBytes` or not a regular file, and rejects bytes that are not UTF-8. Never throws.
 */
export async function loadSymbolFile(path: string, options: { readonly maxBytes?: number; readonly file?: string } = {}): Promise<FileLoadResult> {
  const file = options.file ?? path;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  const fail = (message: string, hash?: string): FileLoadResult => ({ ok: false, errors: [{ file, message }], warnings: [], hash });
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'file does not exist' : `cannot open the file (${code ?? String(err)})`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return fail('not a regular file');
    if (stat.size > maxBytes) return fail(`file is ${stat.size} bytes, more than the limit of ${maxBytes} bytes`);
    // Read at most one byte past the limit: the file may grow between stat and read.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) return fail(`file is more than the limit of ${maxBytes} bytes`);
    }
    const bytes = buffer.subarray(0, length);
    const hash = createHash('sha256').update(bytes).digest('hex');
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return fail('file is not valid UTF-8 text', hash);
    }
    return { ...parseSymbolFile(text, { file, maxBytes }), hash };
  } catch (err) {
    return fail(`cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
