/**
 * Integration-test harness (used by `*.it.test.ts` only): a real Kafka from the test kit, the
 * Binance simulator, unique topics, SymbolConfig records, an in-process ingest, and a consumer
 * of the trades topic to compare with the simulator's ground truth.
 */
import { createLogger, type Logger } from '@cvd/common';
import { createKafka, ensureTopics, type Consumer, type Kafka, type Producer } from '@cvd/kafka';
import type { AggTrade, Market } from '@cvd/core';
import { decodeTradeRecord, encodeSymbolConfig, key } from '@cvd/schemas';
import { startSimulator, type Simulator, type SimulatorOptions } from '@cvd/simulator';
import { getTestStack, uniqueId, uniqueTopic } from '@cvd/test-kit';
import { parseIngestEnv } from './env.js';
import { startIngest, type IngestHandle } from './ingest.js';

export interface DeadLetter {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
}

export interface Harness {
  readonly kafka: Kafka;
  readonly sim: Simulator;
  /** The running ingest (replaced by {@link restartIngest}). */
  readonly ingest: IngestHandle;
  /** Stops ingest (SIGTERM path), waits `downMs`, starts a fresh one on the same topics. */
  restartIngest(downMs: number): Promise<void>;
  readonly topics: { trades: string; symbols: string; deadLetter: string };
  /** Every trade read from the trades topic so far, in arrival order. */
  readonly trades: AggTrade[];
  /** Records read from the trades topic so far (an `AggTradeBatch` record holds several trades). */
  records(): number;
  readonly deadLetters: DeadLetter[];
  setSymbol(market: Market, symbol: string, enabled: boolean | null): Promise<void>;
  /** `market:symbol:aggId` → times published. */
  counts(): Map<string, number>;
  /** Expected `market:symbol:aggId` from the ground truth (unrecoverable ids left out). */
  expected(symbols: readonly { market: Market; symbol: string }[], fromFirstSeen?: boolean): Set<string>;
  close(): Promise<void>;
}

export const SYMBOLS = [
  { market: 'spot', symbol: 'BTCUSDT' },
  { market: 'spot', symbol: 'ETHUSDT' },
  { market: 'usdm', symbol: 'BTCUSDT' },
  { market: 'usdm', symbol: 'ETHUSDT' },
] as const satisfies readonly { market: Market; symbol: string }[];

export const streamOf = (symbol: string): string => `${symbol.toLowerCase()}@aggTrade`;

export async function startHarness(options: {
  /** Symbols enabled before ingest starts. */
  symbols: readonly { market: Market; symbol: string }[];
  sim: SimulatorOptions;
  /** Extra ingest environment (`INGEST_*`). */
  env?: Record<string, string>;
}): Promise<Harness> {
  const stack = await getTestStack();
  const logger: Logger = createLogger({ service: 'ingest-it', level: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'silent' });
  const kafka = createKafka({ brokers: [stack.brokers], clientId: uniqueId('ingest-it') }, logger);
  const topics = { trades: uniqueTopic('it.trades'), symbols: uniqueTopic('it.symbols'), deadLetter: uniqueTopic('it.dl') };
  await ensureTopics(kafka, [
    { topic: topics.trades, partitions: 3 },
    { topic: topics.symbols, partitions: 1, configs: { 'cleanup.policy': 'compact' } },
    { topic: topics.deadLetter, partitions: 1 },
  ]);
  const producer: Producer = kafka.producer();
  await producer.connect();
  const setSymbol = async (market: Market, symbol: string, enabled: boolean | null): Promise<void> => {
    const value = enabled === null ? null : encodeSymbolConfig({ market, symbol, enabled, source: 'api', updatedAtMs: Date.now() });
    await producer.send({ topic: topics.symbols, messages: [{ key: key(market, symbol), value }] });
  };
  for (const s of options.symbols) await setSymbol(s.market, s.symbol, true);

  const sim = await startSimulator({ start: 'manual', ...options.sim });
  const { config } = parseIngestEnv({
    BINANCE_SPOT_WS_URL: sim.wsUrl('spot'),
    BINANCE_USDM_WS_URL: sim.wsUrl('usdm'),
    BINANCE_COINM_WS_URL: sim.wsUrl('coinm'),
    BINANCE_SPOT_REST_URL: sim.restUrl('spot'),
    BINANCE_USDM_REST_URL: sim.restUrl('usdm'),
    BINANCE_COINM_REST_URL: sim.restUrl('coinm'),
    TOPIC_TRADES: topics.trades,
    TOPIC_SYMBOLS: topics.symbols,
    TOPIC_DEADLETTER: topics.deadLetter,
    INGEST_BACKFILL_DELAY: '300ms',
    INGEST_RECONNECT_INITIAL: '100ms',
    INGEST_RECONNECT_MAX: '1s',
    ...options.env,
  });
  const trades: AggTrade[] = [];
  let records = 0;
  const deadLetters: DeadLetter[] = [];
  const consumers: Consumer[] = [];
  for (const topic of [topics.trades, topics.deadLetter]) {
    const consumer = kafka.consumer({ groupId: uniqueId('ingest-it-read'), maxWaitTimeInMs: 100 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (topic === topics.deadLetter) {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          deadLetters.push({ key: message.key?.toString() ?? '', value: message.value ?? Buffer.alloc(0), headers });
          return;
        }
        // A record holds one trade (AggTrade) or several of one symbol in order (AggTradeBatch).
        const r = decodeTradeRecord(message.value ?? Buffer.alloc(0));
        if (!r.ok) throw new Error(`undecodable trade record: ${r.error.message}`);
        records += 1;
        trades.push(...r.value);
      },
    });
  }
  let ingest: IngestHandle;
  try {
    ingest = await startIngest({ config, logger, kafka, ops: { port: 0 }, ensureTopics: false });
  } catch (err) {
    await sim.stop();
    throw err;
  }

  return {
    kafka,
    sim,
    get ingest() {
      return ingest;
    },
    async restartIngest(downMs) {
      await ingest.stop();
      await new Promise((r) => setTimeout(r, downMs));
      ingest = await startIngest({ config, logger, kafka, ops: { port: 0 }, ensureTopics: false });
    },
    topics,
    trades,
    records: () => records,
    deadLetters,
    setSymbol,
    counts() {
      const m = new Map<string, number>();
      for (const t of trades) {
        const k = `${t.market}:${t.symbol}:${t.aggId}`;
        m.set(k, (m.get(k) ?? 0) + 1);
      }
      return m;
    },
    expected(symbols, fromFirstSeen = false) {
      const out = new Set<string>();
      const truth = sim.groundTruth();
      for (const { market, symbol } of symbols) {
        const lost = new Set(truth.unrecoverable(market, symbol));
        const seen = trades.filter((t) => t.market === market && t.symbol === symbol).map((t) => t.aggId);
        const first = fromFirstSeen && seen.length > 0 ? Math.min(...seen) : Number.NEGATIVE_INFINITY;
        for (const t of truth.trades(market, symbol)) if (!lost.has(t.a) && t.a >= first) out.add(`${market}:${symbol}:${t.a}`);
      }
      return out;
    },
    async close() {
      await ingest.stop();
      await sim.stop();
      await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)));
      await producer.disconnect().catch(() => undefined);
    },
  };
}

/** Polls `check` every 100 ms until true, or fails after `timeoutMs` with `what`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sum of a counter/gauge in the registry, optionally filtered by labels. */
export async function metricSum(ingest: IngestHandle, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = ingest.registry.getSingleMetric(name);
  if (m === undefined) throw new Error(`no metric ${name}`);
  const data = await m.get();
  let sum = 0;
  for (const v of data.values) {
    if (Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want)) sum += v.value;
  }
  return sum;
}
