import { createReadStream, openSync, readSync, closeSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { AggTradesDumpParser, DumpError, dumpPathInfo, zipFirstEntry, type DumpParseResult, type FrameTrade as DumpTrade } from '@cvd/binance';
import { isMarket, type AggTrade, type Market } from '@cvd/core';
import { BatchingProducer, type Kafka } from '@cvd/kafka';
import { encodeTrade, key } from '@cvd/schemas';
import { CliUsageError } from '../env.js';
import { CliFailure, checkSymbol, parseCommandArgs, str, type Io } from './data-args.js';
import { cliKafka, cliLogger, DATA_ENV_HELP, parseDataEnv, requireKafka } from './data-env.js';

export const IMPORT_HELP = `Usage: cvd import FILE… [--market spot|usdm|coinm] [--symbol SYM] [--dry-run] [--keep-zero]

Publishes data.binance.vision aggTrades dumps (.zip or .csv; spot or futures; with or without
header; ms or µs times — detected per file/row) to the trades topic as AggTrade records
(key market:SYMBOL, recovered: false), in agg-id order, through the idempotent batching producer.

  --market M    market of every FILE; default: from a data/spot/, data/futures/um/ (usdm) or
                data/futures/cm/ (coinm) path segment
  --symbol S    symbol of every FILE; default: from the name SYM-aggTrades-YYYY-MM[-DD].zip
  --dry-run     parse and report only; publish nothing
  --keep-zero   publish zero-quantity rows too (default: dropped, counted — the engine refuses
                quantities of 0, so the aggregator would dead-letter them as invalid)

How history joins live bars: the aggregator dedupes on agg id, so re-importing a file or
overlapping the live stream is harmless. But a trade older than the aggregator's revision
horizon (AGGREGATOR_REVISION_HORIZON, default 10 min, behind the partition's watermark) is
not applied: it is dead-lettered as beyond-horizon. So import a symbol's history BEFORE the
live run for that symbol starts, or import it and then run
\`cvd rebuild --from … --to … --symbols M:S\` over the imported range.

${DATA_ENV_HELP}
`;

/** Publishes at most this many records ahead of Kafka's acknowledgements. */
const MAX_AHEAD = 100_000;

export interface ImportTarget {
  path: string;
  market: Market;
  symbol: string;
  zip: boolean;
}

/** Works out market, symbol and container of each file; throws a usage error naming the file otherwise. */
export function importTargets(files: string[], marketOpt: string | undefined, symbolOpt: string | undefined): ImportTarget[] {
  if (marketOpt !== undefined && !isMarket(marketOpt)) throw new CliUsageError(`--market expects spot, usdm or coinm, got ${JSON.stringify(marketOpt)}`);
  if (symbolOpt !== undefined) checkSymbol(symbolOpt);
  return files.map((path) => {
    const info = dumpPathInfo(path);
    const market = (marketOpt ?? info.market) as Market | undefined;
    const symbol = symbolOpt ?? info.symbol;
    if (!market) throw new CliUsageError(`cannot tell the market of ${path}: pass --market spot|usdm|coinm (or keep the data/spot/, data/futures/um/, data/futures/cm/ path)`);
    if (!symbol) throw new CliUsageError(`cannot tell the symbol of ${path}: pass --symbol (or keep the SYM-aggTrades-DATE name)`);
    checkSymbol(symbol);
    return { path, market, symbol, zip: isZip(path) };
  });
}

function isZip(path: string): boolean {
  if (/\.zip$/i.test(path)) return true;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    return b.readUInt32LE(0) === 0x04034b50;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function progressEvery(ms: number): () => boolean {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < ms) return false;
    last = now;
    return true;
  };
}

/** Reads and parses one dump with progress (% of the file read). */
export async function parseDumpFile(t: ImportTarget, keepZero: boolean, progress?: (line: string) => void): Promise<DumpParseResult> {
  const name = basename(t.path);
  const parser = new AggTradesDumpParser({ market: t.market, symbol: t.symbol, name, keepZeroQuantity: keepZero });
  const due = progressEvery(1000);
  let source: Readable;
  let total: number;
  let done = 0;
  if (t.zip) {
    const entry = zipFirstEntry(readFileSync(t.path));
    total = entry.data.length;
    const chunks = function* (): Generator<Buffer> {
      for (let i = 0; i < entry.data.length; i += 1 << 20) yield entry.data.subarray(i, i + (1 << 20));
    };
    const raw = Readable.from(chunks());
    raw.on('data', (b: Buffer) => (done += b.length));
    source = entry.method === 8 ? raw.pipe(createInflateRaw()) : raw;
    raw.on('error', (e) => source.destroy(e));
  } else {
    total = statSync(t.path).size;
    source = createReadStream(t.path);
    source.on('data', (b: Buffer | string) => (done += b.length));
  }
  source.setEncoding('utf8');
  const started = Date.now();
  try {
    for await (const chunk of source) {
      parser.push(chunk as string);
      if (progress && due()) progress(`  ${name}: read ${Math.round((done / Math.max(1, total)) * 100)}%  ${parser.rowCount} rows  ${Math.round(parser.rowCount / Math.max(0.001, (Date.now() - started) / 1000))} rows/s`);
    }
  } catch (err) {
    if (err instanceof DumpError) throw err;
    throw new DumpError('bad-zip', `${name}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  return parser.finish();
}

export function toRecord(t: DumpTrade, receivedAtMs: number): AggTrade {
  return { ...t, recovered: false, receivedAtMs };
}

async function publish(kafka: Kafka, topic: string, trades: readonly DumpTrade[], label: string, io: Io): Promise<void> {
  const producer = new BatchingProducer(kafka, { logger: cliLogger('error'), lingerMs: 20, maxBatch: 10_000 });
  await producer.connect();
  const due = progressEvery(1000);
  const started = Date.now();
  const now = Date.now();
  try {
    const k = trades[0] ? key(trades[0].market, trades[0].symbol) : '';
    for (let i = 0; i < trades.length; i += 5000) {
      const slice = trades.slice(i, i + 5000);
      producer.enqueue(topic, slice.map((t) => ({ key: k, value: encodeTrade(toRecord(t, now)) })));
      if (producer.buffered > MAX_AHEAD) await producer.flush();
      if (due()) {
        const sent = i + slice.length - producer.buffered;
        io.err(`  ${label}: published ${Math.round((sent / trades.length) * 100)}%  ${sent}/${trades.length}  ${Math.round(sent / Math.max(0.001, (Date.now() - started) / 1000))} rows/s`);
      }
    }
    await producer.flush();
  } finally {
    await producer.close();
  }
}

export async function importCommand(argv: string[], io: Io, envSource: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { market: { type: 'string' }, symbol: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'keep-zero': { type: 'boolean' } },
    IMPORT_HELP,
  );
  if (values.help) {
    io.out(IMPORT_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new CliUsageError(`import needs at least one FILE\n\n${IMPORT_HELP}`);
  const targets = importTargets(positionals, str(values.market), str(values.symbol));
  for (const t of targets) {
    try {
      statSync(t.path);
    } catch {
      throw new CliUsageError(`${t.path}: no such file`);
    }
  }
  const env = parseDataEnv(envSource);
  const dry = values['dry-run'] === true;
  let kafka: Kafka | undefined;
  if (!dry) {
    await requireKafka(env);
    kafka = cliKafka(env, 'cvd-cli-import');
    const admin = kafka.admin();
    try {
      await admin.connect();
      const topics = await admin.listTopics();
      if (!topics.includes(env.topics.trades)) throw new CliFailure('failed', `topic ${env.topics.trades} does not exist on ${env.brokers.join(',')}: start the pipeline once (cvd run, or the config service), which creates it`);
    } catch (err) {
      if (err instanceof CliFailure) throw err;
      throw new CliFailure('unreachable', `Kafka at ${env.brokers.join(',')} is unreachable (${(err as Error).message}); check KAFKA_BROKERS`, { cause: err });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
  let total = 0;
  const started = Date.now();
  for (const t of targets) {
    const label = `${t.market}:${t.symbol} ${basename(t.path)}`;
    const r = await parseDumpFile(t, values['keep-zero'] === true, io.err);
    const first = r.trades[0];
    const last = r.trades.at(-1);
    io.err(
      `${label}: ${r.rows} rows (${r.header ? 'header' : 'no header'}, ${r.timeUnit === 'us' ? 'µs' : r.timeUnit} times${r.outOfOrder ? ', sorted by id' : ''}` +
        `${r.duplicates ? `, ${r.duplicates} repeated ids dropped` : ''}${r.zeroQuantity ? `, ${r.zeroQuantity} zero-quantity rows ${values['keep-zero'] ? 'kept' : 'dropped'}` : ''})` +
        (first && last ? `; ids ${first.aggId}–${last.aggId}, ${new Date(first.tradeTimeMs).toISOString()} – ${new Date(last.tradeTimeMs).toISOString()}` : ''),
    );
    if (!dry && kafka && r.trades.length) await publish(kafka, env.topics.trades, r.trades, label, io);
    total += r.trades.length;
  }
  const secs = (Date.now() - started) / 1000;
  io.out(`${dry ? 'parsed (dry run, nothing published)' : `published to ${env.topics.trades}`}: ${total} trades from ${targets.length} file${targets.length === 1 ? '' : 's'} in ${secs.toFixed(1)} s (${Math.round(total / Math.max(secs, 0.001))} trades/s)`);
  return 0;
}
