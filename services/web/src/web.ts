import { createLogger, createMetricsRegistry, startOpsServer, type HealthReport, type Logger, type OpsRoute } from '@cvd/common';
import { DEFAULT_BAR_TABLE, QuestDbSql, assertTableName, type QuestDbSettings } from '@cvd/questdb';
import type { Registry } from 'prom-client';
import { Api, type SqlExecutor } from './api.js';
import { webMetrics } from './metrics.js';
import { loadStaticFiles, serveStatic } from './static.js';

/** Options of {@link startWeb}. */
export interface WebOptions {
  /** How to reach QuestDB. */
  readonly questdb: QuestDbSettings;
  /** The 1m bar table; views are `cvd_bars_5m`… (or `<table>_5m`…). @defaultValue 'cvd_bars_1m' */
  readonly table?: string;
  /** @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free port. @defaultValue 8080 */
  readonly port?: number;
  /** @defaultValue a pino logger at `info` with `service: 'web'` */
  readonly logger?: Logger;
  /** Replaces the QuestDB client (tests). @defaultValue new QuestDbSql(questdb) */
  readonly sql?: SqlExecutor;
}

export interface RunningWeb {
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  readonly registry: Registry;
  /** Idempotent. */
  close(): Promise<void>;
}

/** The web service's endpoints, ready for an ops server (`startWeb`, or `bootService` in `main.ts`). */
export interface WebApp {
  readonly registry: Registry;
  readonly baseTable: string;
  /** The chart page, its assets and the JSON API. */
  readonly routes: readonly OpsRoute[];
  /** `/health`: QuestDB answers `SELECT 1`. */
  health(): Promise<HealthReport>;
}

/** Builds the routes and health check without listening; {@link startWeb} serves them. */
export function createWebApp(options: Omit<WebOptions, 'host' | 'port'> & { readonly logger: Logger; readonly registry?: Registry }): WebApp {
  const { logger } = options;
  const baseTable = assertTableName(options.table ?? DEFAULT_BAR_TABLE);
  const sql = options.sql ?? new QuestDbSql(options.questdb);
  const registry = options.registry ?? createMetricsRegistry('web');
  const metrics = webMetrics(registry);
  const api = new Api({ sql, baseTable, logger, metrics });
  const routes: OpsRoute[] = [
    ...loadStaticFiles().map((f) => ({ method: 'GET', path: f.path, handler: serveStatic(f) })),
    { method: 'GET', path: '/api/symbols', handler: api.handler('symbols', () => api.symbols()) },
    { method: 'GET', path: '/api/bars', handler: api.handler('bars', (p) => api.bars(p)) },
  ];
  const health = async (): Promise<HealthReport> => {
    try {
      await sql.exec('SELECT 1');
      return { healthy: true, checks: { questdb: { healthy: true } } };
    } catch (err) {
      return { healthy: false, checks: { questdb: { healthy: false, detail: (err as Error).message } } };
    }
  };
  return { registry, baseTable, routes, health };
}

/**
 * Serves the chart page (`/`, `/app.js`, `/app.css`, `/vendor/lightweight-charts.js`), the
 * JSON API (`/api/symbols`, `/api/bars`) and `/health` (QuestDB answers `SELECT 1`) and
 * `/metrics`, all on one port.
 */
export async function startWeb(options: WebOptions): Promise<RunningWeb> {
  const logger = options.logger ?? createLogger({ service: 'web' });
  const app = createWebApp({ ...options, logger });
  const server = await startOpsServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 8080,
    registry: app.registry,
    logger,
    health: app.health,
    routes: app.routes,
  });
  logger.info({ url: server.url, table: app.baseTable, questdb: options.questdb.httpUrl }, 'web started');
  let closed: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    registry: app.registry,
    close: () =>
      (closed ??= (async () => {
        await server.close();
        logger.info('web stopped');
      })()),
  };
}
