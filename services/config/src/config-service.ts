/**
 * The config service: owns the symbol set and keeps the compacted `cvd.symbols.v1` topic equal
 * to it.
 *
 * Inputs: the watched YAML file, selectors resolved through exchangeInfo (on file changes and
 * on a timer), and the admin API. Every change runs one `reconcile`: compute the desired set,
 * diff it against what the topic holds, publish only the differences (records and
 * tombstones), wait for Kafka's acknowledgement, then remember the new topic state. All
 * changes are serialised through one queue, so the topic sees them in order.
 */
import { dirname, resolve } from 'node:path';
import type { Registry } from 'prom-client';
import { RestClient, type SymbolInfo } from '@cvd/binance';
import { Backoff, createMetricsRegistry, isRetriable, retry, startOpsServer, type HealthReport, type Logger, type OpsServer } from '@cvd/common';
import {
  BatchingProducer,
  createKafka,
  ensureTopics,
  pipelineTopics,
  readCompacted,
  type KafkaSettings,
  type TopicNames,
} from '@cvd/kafka';
import { MARKETS, type Market } from '@cvd/core';
import { decodeSymbolConfig, encodeSymbolConfig, key, parseKey, type SymbolConfig } from '@cvd/schemas';
import { startAdminServer, type AdminReply, type AdminServer, type MarketSymbolInput } from './admin-api.js';
import {
  apiStateFromTopic,
  computeDesired,
  diffSymbols,
  type ApiState,
  type DesiredEntry,
  type MarketLists,
  type OutRecord,
} from './desired.js';
import { watchDirectory, type DirectoryWatcher } from './file-watcher.js';
import { createConfigMetrics, type ConfigMetrics } from './metrics.js';
import { applySelector } from './selectors.js';
import { DEFAULT_MAX_FILE_BYTES, formatIssue, loadSymbolFile, type FileIssue, type SymbolFile } from './symbol-file.js';

export interface ConfigServiceOptions {
  /** Path of the YAML symbol file (relative paths resolve against the working directory). */
  readonly file: string;
  /** @defaultValue 1 MiB */
  readonly maxFileBytes?: number;
  /** Quiet time after a change in the file's directory before it is re-read. @defaultValue 250 */
  readonly watchDebounceMs?: number;
  /** How often selectors are re-resolved from exchangeInfo; 0 = only on file changes. @defaultValue 3_600_000 */
  readonly selectorRefreshMs?: number;
  /** Warn about file/API symbols that exchangeInfo does not list (costs exchangeInfo requests). @defaultValue true */
  readonly verifySymbols?: boolean;
  readonly kafka: KafkaSettings;
  readonly topics: TopicNames;
  /** Partitions of the trades topic when the service creates it. @defaultValue 12 */
  readonly tradesPartitions?: number;
  /** REST base URLs per market (the simulator in tests). @defaultValue live Binance */
  readonly restUrls?: Partial<Record<Market, string>>;
  /** A ready REST client instead of `restUrls` (tests). */
  readonly restClient?: RestClient;
  /** Admin API. @defaultValue host 127.0.0.1, port 8081, no token (mutations refused with 503) */
  readonly admin?: { readonly host?: string; readonly port?: number; readonly token?: string | undefined };
  /** Health and metrics server; `null` = none (the caller serves {@link ConfigService.health}). @defaultValue port 9465 */
  readonly ops?: { readonly host?: string; readonly port: number } | null;
  readonly logger: Logger;
  /** @defaultValue a fresh registry from `createMetricsRegistry('config')` */
  readonly registry?: Registry;
  /** Time of `updatedAtMs`. @defaultValue Date.now */
  readonly now?: () => number;
  /** How long an admin request waits for Kafka before answering 202 (queued). @defaultValue 10_000 */
  readonly publishTimeoutMs?: number;
}

/** One symbol as `GET /symbols` lists it. */
export interface SymbolView {
  readonly market: Market;
  readonly symbol: string;
  readonly enabled: boolean;
  readonly source: string;
  readonly sources: readonly string[];
}

export interface ConfigServiceStatus {
  /** Symbol file loads (valid or not) since start, unchanged re-reads excluded. */
  readonly fileLoads: number;
  readonly invalidFileLoads: number;
  /** Errors of the last load; empty when it was valid. */
  readonly fileErrors: readonly string[];
  readonly fileWarnings: readonly string[];
  readonly reconciles: number;
  readonly recordsPublished: number;
  readonly tombstonesPublished: number;
  readonly selectorRefreshes: number;
}

export interface ConfigService {
  /** `http://host:port` of the admin API. */
  readonly adminUrl: string;
  /** `http://host:port` of /health and /metrics, when served. */
  readonly opsUrl: string | undefined;
  readonly registry: Registry;
  health(): HealthReport;
  symbols(): SymbolView[];
  status(): ConfigServiceStatus;
  /** Re-reads the file now (what the watcher does); resolves after the resulting publish. */
  reload(): Promise<void>;
  /** Re-resolves selectors now (what the timer does). */
  refreshSelectors(): Promise<void>;
  /** Stops watching and serving, publishes what is queued, disconnects. Idempotent. */
  stop(): Promise<void>;
}

const EMPTY_LISTS: MarketLists = { spot: undefined, usdm: undefined, coinm: undefined };
const MAX_REPORTED_ISSUES = 20;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** Starts the service; resolves once the topic reflects the file and the admin API listens. */
export async function startConfigService(options: ConfigServiceOptions): Promise<ConfigService> {
  const logger = options.logger;
  const filePath = resolve(options.file);
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const now = options.now ?? Date.now;
  const verify = options.verifySymbols ?? true;
  const selectorRefreshMs = options.selectorRefreshMs ?? 3_600_000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
  const registry = options.registry ?? createMetricsRegistry('config');
  const metrics: ConfigMetrics = createConfigMetrics(registry);
  const topic = options.topics.symbols;
  const rest =
    options.restClient ??
    new RestClient({
      markets: Object.fromEntries(
        Object.entries(options.restUrls ?? {}).map(([m, url]) => [m, { restBaseUrl: url }]),
      ) as Partial<Record<Market, { restBaseUrl: string }>>,
    });

  // ---- state (mutated only inside `serial`) ----
  /** What the topic holds: decodable records by key, null = tombstone. */
  const current = new Map<string, SymbolConfig | null>();
  let api: ApiState = { added: new Set(), removed: new Set() };
  /** Last valid file; undefined until one was read (the topic's file records are kept meanwhile). */
  let file: SymbolFile | undefined;
  let fileHash: string | undefined;
  let fileErrors: readonly FileIssue[] = [];
  let fileWarnings: readonly FileIssue[] = [];
  let verifyWarnings: string[] = [];
  /** Last good answer per selector id. */
  const selectorResults = new Map<string, readonly string[]>();
  const selectorErrors = new Map<Market, string>();
  const exchangeInfo = new Map<Market, { at: number; infos: readonly SymbolInfo[] }>();
  let desired = new Map<string, DesiredEntry>();
  let kafkaError: string | undefined;
  const counts = { fileLoads: 0, invalidFileLoads: 0, reconciles: 0, published: 0, tombstones: 0, selectorRefreshes: 0 };
  let started = false;
  let stopping = false;

  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  };

  // ---- Kafka: topics, current content, producer ----
  const kafka = createKafka(options.kafka, logger);
  // A topic created a moment ago may not have its leader everywhere yet (NOT_LEADER_FOR_PARTITION):
  // kafkajs marks such errors `retriable`; retry them a few times before failing start-up.
  const kafkaRetry = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    retry(fn, {
      maxAttempts: 8,
      backoff: new Backoff({ initialMs: 200, maxMs: 3_000 }),
      shouldRetry: (err) => isRetriable(err) || (err as { retriable?: unknown } | null)?.retriable === true,
      onRetry: ({ err, attempt, delayMs }) => logger.warn({ err, attempt, delayMs }, `${what} failed; retrying`),
    });
  await kafkaRetry('creating topics', () => ensureTopics(kafka, pipelineTopics(options.topics, options.tradesPartitions ?? 12), logger));
  const read = await kafkaRetry('reading the symbols topic', () => readCompacted(kafka, topic, 'cvd-config-read'));
  for (const [k, record] of read) {
    const parsed = parseKey(k);
    if (!parsed.ok) {
      logger.warn({ key: k, reason: parsed.error.message }, 'ignoring a record with an invalid key on the symbols topic');
      continue;
    }
    if (record.value === null) {
      current.set(k, null);
      continue;
    }
    const decoded = decodeSymbolConfig(record.value);
    if (!decoded.ok) {
      // Possibly a newer schema from a newer instance: leave it alone rather than overwrite blindly.
      logger.warn({ key: k, code: decoded.error.code, reason: decoded.error.message }, 'ignoring an undecodable record on the symbols topic');
      continue;
    }
    current.set(k, decoded.value);
  }
  api = apiStateFromTopic(current);
  logger.info(
    { topic, records: [...current.values()].filter((c) => c !== null).length, apiAdded: api.added.size, apiRemoved: api.removed.size },
    'read the symbols topic',
  );

  const producer = new BatchingProducer(kafka, {
    logger,
    lingerMs: 0,
    onSent: () => {
      kafkaError = undefined;
    },
    onError: (err) => {
      kafkaError = err instanceof Error ? err.message : String(err);
      metrics.kafkaSendErrors.inc();
    },
  });
  await producer.connect();

  // ---- exchangeInfo and selectors ----
  async function infosFor(market: Market, maxAgeMs: number): Promise<readonly SymbolInfo[]> {
    const cached = exchangeInfo.get(market);
    if (cached !== undefined && now() - cached.at <= maxAgeMs) return cached.infos;
    const infos = await rest.exchangeInfo(market);
    exchangeInfo.set(market, { at: now(), infos });
    return infos;
  }

  /** Resolves every selector of the current file; failures keep the selector's last answer. */
  async function resolveSelectors(maxAgeMs: number): Promise<void> {
    if (file === undefined) return;
    counts.selectorRefreshes++;
    const markets = new Set(file.selectors.map((s) => s.market));
    const infos = new Map<Market, readonly SymbolInfo[]>();
    selectorErrors.clear();
    for (const market of markets) {
      try {
        infos.set(market, await infosFor(market, maxAgeMs));
      } catch (err) {
        metrics.selectorFailures.inc({ market });
        selectorErrors.set(market, err instanceof Error ? err.message : String(err));
        logger.warn({ err, market }, 'exchangeInfo failed; selectors of this market keep their last answer');
      }
    }
    const live = new Set<string>();
    for (const selector of file.selectors) {
      live.add(selector.id);
      const list = infos.get(selector.market);
      if (list === undefined) continue;
      const r = applySelector(selector, list);
      for (const x of r.rejected) logger.warn({ market: selector.market, symbol: x.symbol, reason: x.reason }, 'exchangeInfo symbol skipped');
      selectorResults.set(selector.id, r.symbols);
    }
    for (const id of [...selectorResults.keys()]) if (!live.has(id)) selectorResults.delete(id);
  }

  /** The selectors' symbols per market; undefined for a market with an unresolved selector. */
  function selectedLists(): MarketLists {
    if (file === undefined) return EMPTY_LISTS;
    const lists: Record<Market, string[] | undefined> = { spot: [], usdm: [], coinm: [] };
    for (const selector of file.selectors) {
      const result = selectorResults.get(selector.id);
      const list = lists[selector.market];
      if (result === undefined) lists[selector.market] = undefined;
      else if (list !== undefined) list.push(...result);
    }
    return lists;
  }

  async function verifyFileSymbols(): Promise<void> {
    if (!verify || file === undefined) return;
    const warnings: string[] = [];
    for (const market of MARKETS) {
      const listed = file.symbols[market];
      if (listed.length === 0) continue;
      let known: Set<string>;
      try {
        known = new Set((await infosFor(market, selectorRefreshMs || 3_600_000)).map((i) => i.symbol));
      } catch (err) {
        warnings.push(`could not verify the ${market} symbols: exchangeInfo failed (${err instanceof Error ? err.message : String(err)})`);
        continue;
      }
      for (const symbol of listed) {
        if (!known.has(symbol)) warnings.push(`${options.file}: ${market} symbol ${JSON.stringify(symbol)} is not listed in ${market} exchangeInfo`);
      }
    }
    verifyWarnings = warnings;
    for (const w of warnings.slice(0, MAX_REPORTED_ISSUES)) logger.warn({ warning: w }, 'symbol not verified');
  }

  // ---- reconcile ----
  async function reconcile(reason: string): Promise<{ records: number; tombstones: number }> {
    const fileLists: MarketLists | undefined = file === undefined ? undefined : file.symbols;
    desired = computeDesired({ file: fileLists, selected: selectedLists(), api, current });
    updateGauges();
    const records: OutRecord[] = diffSymbols(current, desired, now());
    counts.reconciles++;
    if (records.length === 0) {
      logger.debug({ reason }, 'symbol set unchanged; nothing to publish');
      return { records: 0, tombstones: 0 };
    }
    producer.enqueue(
      topic,
      records.map((r) => ({ key: r.key, value: r.value === null ? null : encodeSymbolConfig(r.value) })),
    );
    await producer.flush();
    let tombstones = 0;
    for (const r of records) {
      if (r.value === null) {
        tombstones++;
        current.set(r.key, null);
      } else {
        current.set(r.key, { ...r.value, anchorCvd: r.value.anchorCvd ?? null, notes: r.value.notes ?? null });
      }
    }
    const published = records.length - tombstones;
    counts.published += published;
    counts.tombstones += tombstones;
    metrics.published.inc(published);
    metrics.tombstones.inc(tombstones);
    logger.info(
      {
        reason,
        published,
        tombstones,
        keys: records.length <= 50 ? records.map((r) => `${r.value === null ? '-' : '+'}${r.key}`) : undefined,
      },
      'published symbol changes',
    );
    return { records: published, tombstones };
  }

  function updateGauges(): void {
    metrics.symbolsDesired.reset();
    metrics.symbolsRemoved.reset();
    for (const market of MARKETS) for (const source of ['file', 'selector', 'api']) metrics.symbolsDesired.set({ market, source }, 0);
    for (const d of desired.values()) {
      if (d.enabled) metrics.symbolsDesired.inc({ market: d.market, source: d.source });
      else metrics.symbolsRemoved.inc({ market: d.market });
    }
  }

  // ---- file loading ----
  async function loadFile(reason: string, force = false): Promise<void> {
    const r = await loadSymbolFile(filePath, { maxBytes: maxFileBytes, file: options.file });
    if (!force && r.hash !== undefined && r.hash === fileHash) {
      metrics.fileLoads.inc({ result: 'unchanged' });
      return;
    }
    fileHash = r.hash;
    counts.fileLoads++;
    fileWarnings = r.warnings;
    for (const w of r.warnings.slice(0, MAX_REPORTED_ISSUES)) logger.warn({ warning: formatIssue(w) }, 'symbol file warning');
    if (!r.ok) {
      counts.invalidFileLoads++;
      fileErrors = r.errors;
      metrics.fileLoads.inc({ result: 'invalid' });
      metrics.invalidFileLoads.inc();
      metrics.fileValid.set(0);
      logger.error(
        { reason, file: options.file, errors: r.errors.slice(0, MAX_REPORTED_ISSUES).map(formatIssue), errorCount: r.errors.length },
        file === undefined
          ? 'symbol file is invalid; the symbols on the topic stay as they are'
          : 'symbol file is invalid; the previous symbol set stays in effect',
      );
      return;
    }
    fileErrors = [];
    file = r.value;
    metrics.fileLoads.inc({ result: 'valid' });
    metrics.fileValid.set(1);
    const total = MARKETS.reduce((n, m) => n + r.value.symbols[m].length, 0);
    logger.info({ reason, file: options.file, symbols: total, selectors: r.value.selectors.length }, 'loaded the symbol file');
    // "On change": re-resolve, but a minute-old exchangeInfo answer is fresh enough for an edit.
    await resolveSelectors(60_000);
    await verifyFileSymbols();
  }

  const reload = (reason = 'file changed', force = false): Promise<void> =>
    serial(async () => {
      if (stopping) return;
      await loadFile(reason, force);
      await reconcile(reason);
    });

  const refreshSelectors = (): Promise<void> =>
    serial(async () => {
      if (stopping || file === undefined || file.selectors.length === 0) return;
      await resolveSelectors(0);
      await reconcile('selector refresh');
    });

  // ---- admin handlers ----
  function view(): SymbolView[] {
    return [...desired.values()].map((d) => ({ market: d.market, symbol: d.symbol, enabled: d.enabled, source: d.source, sources: d.sources }));
  }

  async function applyApiChange(change: () => AdminReply | undefined, reason: string): Promise<AdminReply> {
    const work = serial(async () => {
      const early = change();
      if (early !== undefined) return { reply: early, result: undefined };
      return { reply: undefined, result: await reconcile(reason) };
    });
    const outcome = await withTimeout(work, publishTimeoutMs);
    if (outcome === 'timeout') {
      return {
        status: 202,
        body: { status: 'queued', message: 'accepted; Kafka has not acknowledged yet, the change will be published when it does' },
      };
    }
    if (outcome.reply !== undefined) return outcome.reply;
    return { status: 200, body: { status: 'ok', published: outcome.result?.records ?? 0, tombstones: outcome.result?.tombstones ?? 0 } };
  }

  async function unknownOnExchange(items: readonly MarketSymbolInput[]): Promise<string | undefined> {
    if (!verify) return undefined;
    for (const market of MARKETS) {
      const mine = items.filter((i) => i.market === market);
      if (mine.length === 0) continue;
      let known: Set<string>;
      try {
        known = new Set((await infosFor(market, selectorRefreshMs || 3_600_000)).map((i) => i.symbol));
      } catch (err) {
        logger.warn({ err, market }, 'could not verify admin API symbols against exchangeInfo; accepting them');
        continue;
      }
      const missing = mine.find((i) => !known.has(i.symbol));
      if (missing !== undefined) return `${market} symbol ${JSON.stringify(missing.symbol)} is not listed in ${market} exchangeInfo`;
    }
    return undefined;
  }

  const handlers = {
    list: () => {
      const symbols = view();
      return {
        count: symbols.filter((s) => s.enabled).length,
        symbols,
        file: { path: options.file, valid: fileErrors.length === 0, errors: fileErrors.slice(0, MAX_REPORTED_ISSUES).map(formatIssue) },
      };
    },
    add: async (items: readonly MarketSymbolInput[]): Promise<AdminReply> => {
      const unknown = await unknownOnExchange(items);
      if (unknown !== undefined) return { status: 400, body: { error: 'unknown-symbol', message: unknown } };
      const added: string[] = [];
      const unchanged: string[] = [];
      const reply = await applyApiChange(() => {
        for (const i of items) {
          const k = key(i.market, i.symbol);
          if (api.added.has(k)) unchanged.push(k);
          else added.push(k);
          api.removed.delete(k);
          api.added.add(k);
        }
        logger.info({ added, unchanged }, 'admin API: add');
        return undefined;
      }, 'admin API add');
      return reply.status === 200 ? { status: 200, body: { ...(reply.body as object), added, unchanged } } : reply;
    },
    remove: (item: MarketSymbolInput): Promise<AdminReply> => {
      const k = key(item.market, item.symbol);
      let effect = '';
      return applyApiChange(() => {
        const entry = desired.get(k);
        if (entry === undefined || !entry.enabled) {
          return { status: 404, body: { error: 'not-found', message: `${k} is not in the symbol set` } };
        }
        api.added.delete(k);
        const listedElsewhere = entry.sources.some((s) => s !== 'api');
        if (listedElsewhere) api.removed.add(k);
        effect = listedElsewhere ? 'disabled' : 'tombstone';
        logger.info({ key: k, effect }, 'admin API: remove');
        return undefined;
      }, 'admin API remove').then((reply) => (reply.status === 200 ? { status: 200, body: { ...(reply.body as object), removed: k, effect } } : reply));
    },
  };

  // ---- start ----
  let watcher: DirectoryWatcher | undefined;
  let selectorTimer: NodeJS.Timeout | undefined;
  let admin: AdminServer | undefined;
  let ops: OpsServer | undefined;

  const health = (): HealthReport => {
    const fileCheck = fileErrors.length === 0 ? { healthy: true } : { healthy: false, detail: fileErrors.map(formatIssue)[0] ?? 'invalid' };
    const selectorCheck =
      selectorErrors.size === 0 ? { healthy: true } : { healthy: false, detail: [...selectorErrors].map(([m, e]) => `${m}: ${e}`).join('; ') };
    const kafkaCheck = kafkaError === undefined ? { healthy: true } : { healthy: false, detail: kafkaError };
    return {
      // A bad file or an unreachable exchangeInfo does not make the service unhealthy: the
      // previous set stays in effect and a restart would not fix either. They are reported
      // below and in metrics (cvd_config_file_valid, cvd_config_selector_failures_total).
      healthy: started && !stopping && kafkaError === undefined,
      checks: { kafka: kafkaCheck, file: fileCheck, selectors: selectorCheck },
      file: {
        path: options.file,
        valid: fileErrors.length === 0,
        loaded: file !== undefined,
        errors: fileErrors.slice(0, MAX_REPORTED_ISSUES).map(formatIssue),
        warnings: [...fileWarnings.map(formatIssue), ...verifyWarnings].slice(0, MAX_REPORTED_ISSUES),
      },
      symbols: {
        desired: [...desired.values()].filter((d) => d.enabled).length,
        removedByApi: [...desired.values()].filter((d) => !d.enabled).length,
      },
    };
  };

  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    watcher?.close();
    clearInterval(selectorTimer);
    await Promise.all([admin?.close(), ops?.close()]);
    await withTimeout(queue, 10_000);
    await producer.close();
  };

  try {
    await reload('start', true);
    watcher = watchDirectory({
      dir: dirname(filePath),
      debounceMs: options.watchDebounceMs ?? 250,
      logger,
      onChange: () => {
        reload('file changed').catch((err: unknown) => logger.error({ err }, 'reloading the symbol file failed'));
      },
    });
    if (selectorRefreshMs > 0) {
      selectorTimer = setInterval(() => {
        refreshSelectors().catch((err: unknown) => logger.error({ err }, 'selector refresh failed'));
      }, selectorRefreshMs);
      selectorTimer.unref();
    }
    admin = await startAdminServer({
      host: options.admin?.host ?? '127.0.0.1',
      port: options.admin?.port ?? 8081,
      token: options.admin?.token,
      handlers,
      logger,
      metrics,
    });
    if (options.ops !== null) {
      ops = await startOpsServer({
        port: options.ops?.port ?? 9465,
        host: options.ops?.host ?? '127.0.0.1',
        registry,
        health,
        logger,
      });
    }
    started = true;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }

  return {
    adminUrl: admin.url,
    opsUrl: ops?.url,
    registry,
    health,
    symbols: view,
    status: () => ({
      fileLoads: counts.fileLoads,
      invalidFileLoads: counts.invalidFileLoads,
      fileErrors: fileErrors.map(formatIssue),
      fileWarnings: fileWarnings.map(formatIssue),
      reconciles: counts.reconciles,
      recordsPublished: counts.published,
      tombstonesPublished: counts.tombstones,
      selectorRefreshes: counts.selectorRefreshes,
    }),
    reload: () => reload('reload requested', false),
    refreshSelectors,
    stop,
  };
}
