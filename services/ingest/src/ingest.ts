/**
 * `startIngest`: wires the pieces together — symbols topic → connection managers (one per
 * market) → router (dedupe, holes, REST backfill) → Kafka sink — and serves /health and
 * /metrics. Runs in-process so the CLI (`main.ts`) and tests use the same code.
 */
import { RestClient, streamName, type FetchLike, type FrameError } from '@cvd/binance';
import { MARKETS, type Market } from '@cvd/core';
import { createMetricsRegistry, RateLimitedLog, startOpsServer, type HealthReport, type Logger, type OpsServer } from '@cvd/common';
import { DEFAULT_TOPICS, ensureTopics, followTopic, pipelineTopics, withDeadline, type Kafka, type TopicFollower } from '@cvd/kafka';
import type { Registry } from 'prom-client';
import type { IngestConfig } from './env.js';
import { MarketConnections, type MarketStatus } from './market-connections.js';
import { IngestMetrics } from './metrics.js';
import { TradeRouter, type RouterStats } from './router.js';
import { lastPublishedIds } from './resume.js';
import { KafkaTradeSink, type ProducerState } from './sink.js';
import { SymbolSet, symbolChange } from './symbols.js';

/** Raw bytes kept in a dead letter: what the parser accepts at most (an aggTrade is ~250 bytes). */
export const MAX_DEAD_LETTER_BYTES = 64 * 1024;

export interface StartIngestOptions {
  /** Parsed configuration: `parseIngestEnv().config`. */
  readonly config: IngestConfig;
  readonly logger: Logger;
  /** The Kafka client (`createKafka(kafkaSettingsFromEnv(env, 'cvd-ingest'), logger)`). */
  readonly kafka: Kafka;
  /**
   * Serve `/health` and `/metrics`; `false` serves nothing (tests read `registry`).
   * @defaultValue `{ port: config.opsPort, host: config.opsHost }`
   */
  readonly ops?: false | { readonly port: number; readonly host?: string };
  /** Create the trades, symbols and dead-letter topics when missing. @defaultValue true */
  readonly ensureTopics?: boolean;
  /** `fetch` used by the REST client. @defaultValue globalThis.fetch */
  readonly fetch?: FetchLike;
  /** @defaultValue a fresh `createMetricsRegistry('ingest')` */
  readonly registry?: Registry;
  /**
   * A failure ingest cannot recover from while running (the producer gave up after
   * `KAFKA_SEND_GIVE_UP`): `bootService`'s `fail` (log, stop, exit 1). @defaultValue logs it
   */
  readonly onFatal?: (err: Error) => void;
}

export interface IngestStatus {
  readonly markets: Readonly<Record<Market, MarketStatus>>;
  readonly router: Readonly<RouterStats>;
  readonly producer: ProducerState;
  readonly malformed: number;
  readonly symbolsCaughtUp: boolean;
}

export interface IngestHandle {
  readonly registry: Registry;
  readonly metrics: IngestMetrics;
  /** `http://host:port` of the ops server, when one runs. */
  readonly opsUrl: string | undefined;
  /** Resolves once every record the symbols topic held at start has been applied. */
  readonly symbolsCaughtUp: Promise<void>;
  health(): HealthReport;
  status(): IngestStatus;
  /** Last published aggTrade id per active `market:SYMBOL`. */
  lastIds(): Map<string, number | undefined>;
  /** Rotates every connection now (what the lifetime timer does). */
  rotateAll(): void;
  /** Stops following symbols → closes websockets → stops backfills → flushes and disconnects the producer → closes the ops server. Idempotent. */
  stop(): Promise<void>;
}

export async function startIngest(options: StartIngestOptions): Promise<IngestHandle> {
  const { config, kafka } = options;
  const logger = options.logger;
  const log = logger.child({ component: 'ingest' });
  const rlog = new RateLimitedLog(log);
  const registry = options.registry ?? createMetricsRegistry('ingest');
  const cleanups: (() => Promise<void>)[] = [];

  let router: TradeRouter | undefined;
  let sink: KafkaTradeSink | undefined;
  const metrics = new IngestMetrics(registry, {
    markets: MARKETS,
    producerBuffered: () => sink?.state.buffered ?? 0,
    openHoleIds: (m) => router?.openHoleIds(m) ?? 0,
  });

  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        log.error({ err }, 'cleanup step failed');
      }
    }
  };

  try {
    if (options.ensureTopics !== false) {
      const names = { ...config.topics, aggregatorState: DEFAULT_TOPICS.aggregatorState };
      const specs = pipelineTopics(names, config.tradesPartitions).filter((s) => s.topic !== names.aggregatorState);
      await ensureTopics(kafka, specs, log);
    }

    const s = new KafkaTradeSink(kafka, {
      topics: config.topics,
      logger,
      batch: { lingerMs: config.batchLingerMs, maxTrades: config.batchMaxTrades },
      onError: () => metrics.producerErrors.inc(),
      onRefused: (topic, reason, outcome) => metrics.producerRefused.inc({ topic, reason, outcome }),
      ...(config.producerGiveUpMs === undefined ? {} : { giveUpAfterMs: config.producerGiveUpMs }),
      ...(options.onFatal ? { onGiveUp: options.onFatal } : {}),
    });
    await s.connect();
    sink = s;
    // Last step of stop(): what is queued is sent for at most 5 s (a stop is bounded; trades not
    // sent are found again at restart: resume reads the last published ids, REST fills the gap),
    // then the producer disconnects.
    cleanups.push(() => s.close(5_000));

    const rest = new RestClient({
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      markets: Object.fromEntries(MARKETS.map((m) => [m, { restBaseUrl: config.markets[m].restBaseUrl }])),
    });
    const r = new TradeRouter({ config, sink: s, rest, metrics, logger });
    router = r;
    cleanups.push(() => r.close());
    if (config.resumeTailRecords > 0) {
      try {
        const seeds = await lastPublishedIds(kafka, config.topics.trades, {
          tailRecords: config.resumeTailRecords,
          timeoutMs: config.resumeTimeoutMs,
          logger: log,
        });
        r.seed(seeds);
        log.info({ symbols: seeds.size }, 'resuming from the last published ids of the trades topic');
      } catch (err) {
        log.warn({ err }, 'could not read the tail of the trades topic: first frames start afresh');
      }
    }

    let malformed = 0;
    const onMalformed = (market: Market, raw: Buffer, error: FrameError, connection: string): void => {
      malformed += 1;
      metrics.malformed.inc({ market, connection, reason: error.code });
      rlog.warn(
        `malformed:${market}:${error.code}`,
        { market, connection, reason: error.code, detail: error.reason, sample: raw.subarray(0, 160).toString('utf8') },
        'malformed frame: dead-lettered, connection kept',
      );
      // Kafka refuses records above ~1 MB (the producer would split the send and truncate the
      // refused dead letter, see deadLetterOnRefusal): keep only the head as evidence up front.
      const kept = raw.length > MAX_DEAD_LETTER_BYTES ? raw.subarray(0, MAX_DEAD_LETTER_BYTES) : raw;
      const size: Record<string, string> = kept === raw ? {} : { truncated: 'true', 'original-bytes': String(raw.length) };
      s.deadLetter(market, kept, error.code, { connection, detail: error.reason.slice(0, 300), ...size });
      metrics.deadLettered.inc({ market, reason: error.code });
    };

    /** `market:stream` → symbol, for the streams carried (a resumed connection names streams). */
    const streamSymbols = new Map<string, string>();
    const symbolsOf = (market: Market, streams: readonly string[]): string[] => {
      const list: string[] = [];
      for (const stream of streams) {
        const symbol = streamSymbols.get(`${market}:${stream}`);
        if (symbol !== undefined) list.push(symbol);
      }
      return list;
    };
    const managers = Object.fromEntries(
      MARKETS.map((market) => [
        market,
        new MarketConnections({
          market,
          settings: config.markets[market],
          config,
          logger,
          metrics,
          handlers: {
            onTrade: (frame, receivedAtMs) => r.onWsTrade(frame.trade, receivedAtMs),
            onMalformed: (raw, error, connection) => onMalformed(market, raw, error, connection),
            onResumed: (streams) => r.resumed(market, symbolsOf(market, streams)),
            onRotated: (streams) => r.rotated(market, symbolsOf(market, streams)),
          },
        }),
      ]),
    ) as Record<Market, MarketConnections>;
    cleanups.push(async () => {
      await Promise.all(MARKETS.map((m) => managers[m].close()));
    });

    // The symbol set: only from the symbols topic.
    const symbols = new SymbolSet();
    const onRecords = (records: { key: Buffer | null; value: Buffer | null; offset: string; partition: number }[]): void => {
      const touched = new Map<string, { market: Market; symbol: string }>();
      for (const rec of records) {
        const change = symbolChange(rec.key, rec.value);
        if (change.kind === 'invalid') {
          metrics.symbolRecordsInvalid.inc();
          rlog.warn('symbols:invalid', { reason: change.reason, partition: rec.partition, offset: rec.offset }, 'skipping an undecodable symbols record');
          continue;
        }
        if (symbols.apply(change) !== undefined) touched.set(`${change.market}:${change.symbol}`, change);
      }
      const adds = new Map<Market, string[]>();
      const removes = new Map<Market, string[]>();
      for (const { market, symbol } of touched.values()) {
        const before = r.isActive(market, symbol);
        const after = symbols.has(market, symbol);
        if (before === after) continue;
        let stream: string;
        try {
          stream = streamName(symbol);
        } catch (err) {
          rlog.warn('symbols:stream', { err, market, symbol }, 'symbol has no valid stream name: skipped');
          continue;
        }
        if (after) {
          streamSymbols.set(`${market}:${stream}`, symbol);
          r.activate(market, symbol);
          adds.set(market, [...(adds.get(market) ?? []), stream]);
        } else {
          streamSymbols.delete(`${market}:${stream}`);
          r.deactivate(market, symbol);
          removes.set(market, [...(removes.get(market) ?? []), stream]);
        }
        log.info({ market, symbol, enabled: after }, after ? 'symbol added' : 'symbol removed');
      }
      for (const [m, list] of removes) managers[m].remove(list);
      for (const [m, list] of adds) managers[m].add(list);
      for (const m of MARKETS) metrics.symbolsActive.set({ market: m }, symbols.count(m));
    };
    const follower: TopicFollower = await followTopic(kafka, { topic: config.topics.symbols, groupPrefix: 'cvd-ingest-symbols', onRecords });
    // First step of stop(): no more symbol changes.
    cleanups.push(() => withDeadline(follower.stop(), 3_000).catch((err: unknown) => log.warn({ err }, 'the symbols consumer did not disconnect in time')));
    let caughtUp = false;
    const symbolsCaughtUp = follower.caughtUp.then(() => {
      caughtUp = true;
      log.info({ spot: symbols.count('spot'), usdm: symbols.count('usdm'), coinm: symbols.count('coinm') }, 'symbol set loaded');
    });

    const status = (): IngestStatus => ({
      markets: Object.fromEntries(MARKETS.map((m) => [m, managers[m].status()])) as Record<Market, MarketStatus>,
      router: { ...r.stats },
      producer: s.state,
      malformed,
      symbolsCaughtUp: caughtUp,
    });

    const health = (): HealthReport => {
      const p = s.state;
      const producerFailing = p.lastError !== undefined && (p.lastSentAtMs === undefined || (p.lastErrorAtMs ?? 0) > p.lastSentAtMs);
      const checks: Record<string, { healthy: boolean; detail?: string }> = {
        kafka: {
          healthy: p.connected && !producerFailing,
          detail: `producer ${p.connected ? 'connected' : 'disconnected'}, ${p.buffered} buffered${producerFailing ? `, last error: ${p.lastError}` : ''}`,
        },
        symbols: { healthy: caughtUp, detail: caughtUp ? 'loaded' : 'loading the symbols topic' },
      };
      const markets: Record<string, unknown> = {};
      for (const m of MARKETS) {
        const st = managers[m].status();
        if (st.streams === 0 && st.connections.length === 0) continue;
        markets[m] = { connectionsUp: st.connectionsOpen, connections: st.connections.length, streams: st.streams };
        checks[m] = {
          healthy: managers[m].healthy(config.silenceTimeoutMs),
          detail: `${st.connectionsOpen}/${st.connections.length} connections up, ${st.streams} streams`,
        };
      }
      return { healthy: Object.values(checks).every((c) => c.healthy), checks, markets, producer: p };
    };

    let ops: OpsServer | undefined;
    if (options.ops !== false) {
      const o = options.ops ?? { port: config.opsPort, host: config.opsHost };
      ops = await startOpsServer({ port: o.port, host: o.host ?? config.opsHost, registry, health, logger });
      const server = ops;
      cleanups.unshift(() => server.close());
    }

    let stopping: Promise<void> | undefined;
    return {
      registry,
      metrics,
      opsUrl: ops?.url,
      symbolsCaughtUp,
      health,
      status,
      lastIds: () => r.lastIds(),
      rotateAll: () => {
        for (const m of MARKETS) managers[m].rotateAll();
      },
      stop: () => (stopping ??= stopAll()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
