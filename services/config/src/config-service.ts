/**
 * The config service: owns the symbol set and keeps the compacted `cvd.symbols.v1` topic equal
 * to it. This module is the wiring only; each responsibility has its own module and state:
 *
 * - `symbols-topic.ts` — what the topic holds, and publishing to it (acknowledged);
 * - `file-source.ts` — the watched YAML file (last valid content, errors, warnings);
 * - `exchange-info.ts` / `selector-resolver.ts` — exchangeInfo, selectors, verification;
 * - `reconciler.ts` — the one queue every change runs through: desired set → diff → publish;
 * - `admin-handlers.ts` — what the admin API's requests do (`admin-api.ts` is the HTTP side).
 *
 * Inputs: the file (watched), selectors (on file changes and on a timer), the admin API.
 */
import { dirname, resolve } from 'node:path';
import type { Registry } from 'prom-client';
import { RestClient } from '@cvd/binance';
import { createMetricsRegistry, startOpsServer, type HealthReport, type Logger, type OpsServer } from '@cvd/common';
import type { KafkaSettings, TopicNames } from '@cvd/kafka';
import type { Market } from '@cvd/core';
import { startAdminServer, type AdminServer } from './admin-api.js';
import { ConfigAdminHandlers } from './admin-handlers.js';
import { ExchangeInfo } from './exchange-info.js';
import { MAX_REPORTED_ISSUES, SymbolFileSource } from './file-source.js';
import { watchDirectory, type DirectoryWatcher } from './file-watcher.js';
import { createConfigMetrics, type ConfigMetrics } from './metrics.js';
import { Reconciler, type SymbolView } from './reconciler.js';
import { SelectorResolver } from './selector-resolver.js';
import { DEFAULT_MAX_FILE_BYTES, formatIssue } from './symbol-file.js';
import { SymbolsTopic } from './symbols-topic.js';

export type { SymbolView } from './reconciler.js';

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
  /** `KAFKA_SEND_GIVE_UP`: symbols sends failing this long (retriable errors) are given up. @defaultValue 180000 */
  readonly kafkaSendGiveUpMs?: number;
  /** `bootService`'s `fail`: called when the producer gave up (log, stop, exit 1). */
  readonly onFatal?: (err: Error) => void;
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

/** The parts of a running service, built by {@link startConfigService}. */
interface Parts {
  readonly options: ConfigServiceOptions;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly metrics: ConfigMetrics;
  readonly topic: SymbolsTopic;
  readonly file: SymbolFileSource;
  readonly exchange: ExchangeInfo;
  readonly selectors: SelectorResolver;
  readonly reconciler: Reconciler;
}

/** The running service: the timers and servers around the parts, and their lifecycle. */
class RunningConfigService implements ConfigService {
  private started = false;
  private stopping = false;
  private verifyWarnings: readonly string[] = [];
  private watcher: DirectoryWatcher | undefined;
  private selectorTimer: NodeJS.Timeout | undefined;
  private admin: AdminServer | undefined;
  private ops: OpsServer | undefined;

  constructor(private readonly parts: Parts) {}

  get registry(): Registry {
    return this.parts.registry;
  }

  get adminUrl(): string {
    if (this.admin === undefined) throw new Error('the admin API is not listening yet');
    return this.admin.url;
  }

  get opsUrl(): string | undefined {
    return this.ops?.url;
  }

  /** Loads the file and publishes it, then watches the file, schedules selector refreshes and serves. */
  async start(): Promise<void> {
    const { options, logger, reconciler, exchange, file } = this.parts;
    try {
      await this.load('start', true);
      this.watcher = watchDirectory({
        dir: dirname(resolve(options.file)),
        debounceMs: options.watchDebounceMs ?? 250,
        logger,
        onChange: () => {
          this.load('file changed').catch((err: unknown) => logger.error({ err }, 'reloading the symbol file failed'));
        },
      });
      const refreshMs = options.selectorRefreshMs ?? 3_600_000;
      if (refreshMs > 0) {
        this.selectorTimer = setInterval(() => {
          this.refreshSelectors().catch((err: unknown) => logger.error({ err }, 'selector refresh failed'));
        }, refreshMs);
        this.selectorTimer.unref();
      }
      this.admin = await startAdminServer({
        host: options.admin?.host ?? '127.0.0.1',
        port: options.admin?.port ?? 8081,
        token: options.admin?.token,
        handlers: new ConfigAdminHandlers({ reconciler, exchange, file, logger, publishTimeoutMs: options.publishTimeoutMs ?? 10_000 }),
        logger,
        metrics: this.parts.metrics,
      });
      if (options.ops !== null) {
        this.ops = await startOpsServer({
          port: options.ops?.port ?? 9465,
          host: options.ops?.host ?? '127.0.0.1',
          registry: this.parts.registry,
          health: () => this.health(),
          logger,
        });
      }
      this.started = true;
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  health(): HealthReport {
    const { file, selectors, reconciler, topic, options } = this.parts;
    const fileErrors = file.errors;
    const fileCheck = fileErrors.length === 0 ? { healthy: true } : { healthy: false, detail: fileErrors.map(formatIssue)[0] ?? 'invalid' };
    const selectorCheck =
      selectors.errors.size === 0 ? { healthy: true } : { healthy: false, detail: [...selectors.errors].map(([m, e]) => `${m}: ${e}`).join('; ') };
    const kafkaError = topic.kafkaError;
    const kafkaCheck = kafkaError === undefined ? { healthy: true } : { healthy: false, detail: kafkaError };
    const desired = [...reconciler.desired.values()];
    return {
      // A bad file or an unreachable exchangeInfo does not make the service unhealthy: the
      // previous set stays in effect and a restart would not fix either. They are reported
      // below and in metrics (cvd_config_file_valid, cvd_config_selector_failures_total).
      healthy: this.started && !this.stopping && kafkaError === undefined,
      checks: { kafka: kafkaCheck, file: fileCheck, selectors: selectorCheck },
      file: {
        path: options.file,
        valid: fileErrors.length === 0,
        loaded: file.file !== undefined,
        errors: fileErrors.slice(0, MAX_REPORTED_ISSUES).map(formatIssue),
        warnings: [...file.warnings.map(formatIssue), ...this.verifyWarnings].slice(0, MAX_REPORTED_ISSUES),
      },
      symbols: {
        desired: desired.filter((d) => d.enabled).length,
        removedByApi: desired.filter((d) => !d.enabled).length,
      },
    };
  }

  symbols(): SymbolView[] {
    return this.parts.reconciler.view();
  }

  status(): ConfigServiceStatus {
    const { file, reconciler, topic, selectors } = this.parts;
    return {
      fileLoads: file.loads,
      invalidFileLoads: file.invalidLoads,
      fileErrors: file.errors.map(formatIssue),
      fileWarnings: file.warnings.map(formatIssue),
      reconciles: reconciler.reconciles,
      recordsPublished: topic.published,
      tombstonesPublished: topic.tombstones,
      selectorRefreshes: selectors.refreshes,
    };
  }

  reload(): Promise<void> {
    return this.load('reload requested', false);
  }

  refreshSelectors(): Promise<void> {
    const { reconciler, file, selectors } = this.parts;
    return reconciler.serial(async () => {
      const current = file.file;
      if (this.stopping || current === undefined || current.selectors.length === 0) return;
      await selectors.resolve(current, 0);
      await reconciler.reconcile('selector refresh');
    });
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.watcher?.close();
    clearInterval(this.selectorTimer);
    await Promise.all([this.admin?.close(), this.ops?.close()]);
    await this.parts.reconciler.drain(10_000);
    await this.parts.topic.close();
  }

  /** Re-reads the file (in the queue) and publishes the result. */
  private load(reason: string, force = false): Promise<void> {
    const { reconciler, file, selectors, exchange, logger } = this.parts;
    return reconciler.serial(async () => {
      if (this.stopping) return;
      if (await file.load(reason, force)) {
        const loaded = file.file;
        if (loaded !== undefined) {
          // "On change": re-resolve, but a minute-old exchangeInfo answer is fresh enough for an edit.
          await selectors.resolve(loaded, 60_000);
          const warnings = await exchange.verifyFile(loaded, file.label);
          if (warnings !== undefined) {
            this.verifyWarnings = warnings;
            for (const w of warnings.slice(0, MAX_REPORTED_ISSUES)) logger.warn({ warning: w }, 'symbol not verified');
          }
        }
      }
      await reconciler.reconcile(reason);
    });
  }
}

/** Starts the service; resolves once the topic reflects the file and the admin API listens. */
export async function startConfigService(options: ConfigServiceOptions): Promise<ConfigService> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const registry = options.registry ?? createMetricsRegistry('config');
  const metrics = createConfigMetrics(registry);
  const rest =
    options.restClient ??
    new RestClient({
      markets: Object.fromEntries(
        Object.entries(options.restUrls ?? {}).map(([m, url]) => [m, { restBaseUrl: url }]),
      ) as Partial<Record<Market, { restBaseUrl: string }>>,
    });
  const exchange = new ExchangeInfo({
    rest,
    verify: options.verifySymbols ?? true,
    verifyMaxAgeMs: options.selectorRefreshMs || 3_600_000,
    now,
    logger,
  });
  const topic = await SymbolsTopic.open({
    kafka: options.kafka,
    topics: options.topics,
    tradesPartitions: options.tradesPartitions ?? 12,
    logger,
    metrics,
    ...(options.kafkaSendGiveUpMs === undefined ? {} : { giveUpAfterMs: options.kafkaSendGiveUpMs }),
    ...(options.onFatal ? { onFatal: options.onFatal } : {}),
  });
  const file = new SymbolFileSource({ path: resolve(options.file), label: options.file, maxBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, logger, metrics });
  const selectors = new SelectorResolver(exchange, metrics, logger);
  const reconciler = new Reconciler({ topic, file, selectors, metrics, logger, now });
  logger.info(
    {
      topic: topic.topic,
      records: [...topic.current.values()].filter((c) => c !== null).length,
      apiAdded: reconciler.apiCounts.added,
      apiRemoved: reconciler.apiCounts.removed,
    },
    'read the symbols topic',
  );
  const service = new RunningConfigService({ options, logger, registry, metrics, topic, file, exchange, selectors, reconciler });
  await service.start();
  return service;
}
