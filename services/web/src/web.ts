import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLogger, createMetricsRegistry, startOpsServer, type HealthReport, type Logger, type OpsRoute } from '@cvd/common';
import { createKafka, type KafkaSettings } from '@cvd/kafka';
import { DEFAULT_BAR_TABLE, QuestDbSql, assertTableName, type QuestDbSettings } from '@cvd/questdb';
import type { Registry } from 'prom-client';
import { Api, sendJson, type SqlExecutor } from './api.js';
import { BarHub, parseStreamQuery, type StreamFilter } from './bar-hub.js';
import { BarStream } from './bar-stream.js';
import { WebError } from './errors.js';
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
  /**
   * The live bar feed behind `GET /api/stream`: Kafka and the `cvd.bars.v1` topic
   * (`TOPIC_BARS`). Without it `/api/stream` still serves clients (pings only, no bars).
   */
  readonly barStream?: { readonly kafka: KafkaSettings; readonly topic: string; readonly groupId?: string };
  /** `/api/stream` limits. */
  readonly stream?: {
    /** @defaultValue 256 */
    readonly maxClients?: number;
    /** Distinct (symbol, minute) bars waiting for one client before it is dropped. @defaultValue 2000 */
    readonly maxPending?: number;
    /** @defaultValue 15000 */
    readonly pingIntervalMs?: number;
  };
}

export interface RunningWeb {
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  readonly registry: Registry;
  /** The bar consumer, when `barStream` was given (tests wait for `ready`). */
  readonly barStream: BarStream | undefined;
  /** Ends every stream client, stops the consumer, closes the server. Idempotent. */
  close(): Promise<void>;
}

/** The web service's endpoints, ready for an ops server (`startWeb`, or `bootService` in `main.ts`). */
export interface WebApp {
  readonly registry: Registry;
  readonly baseTable: string;
  /** The chart page, its assets and the JSON API. */
  readonly routes: readonly OpsRoute[];
  /** `/health`: QuestDB answers `SELECT 1`, and the bar consumer (if any) is consuming. */
  health(): Promise<HealthReport>;
  /** The bar consumer, when `barStream` was given. */
  readonly barStream: BarStream | undefined;
  readonly hub: BarHub;
  /** Starts the bar consumer (in the background) and the stream pings. */
  start(): void;
  /** Ends every stream client cleanly, then stops the consumer (bounded). Idempotent. */
  stop(): Promise<void>;
}

/** Builds the routes and health check without listening; {@link startWeb} serves them. */
export function createWebApp(options: Omit<WebOptions, 'host' | 'port'> & { readonly logger: Logger; readonly registry?: Registry }): WebApp {
  const { logger } = options;
  const baseTable = assertTableName(options.table ?? DEFAULT_BAR_TABLE);
  const sql = options.sql ?? new QuestDbSql(options.questdb);
  const registry = options.registry ?? createMetricsRegistry('web');
  const metrics = webMetrics(registry);
  const api = new Api({ sql, baseTable, logger, metrics });
  const hub = new BarHub({
    ...(options.stream?.maxClients === undefined ? {} : { maxClients: options.stream.maxClients }),
    ...(options.stream?.maxPending === undefined ? {} : { maxPending: options.stream.maxPending }),
    metrics: {
      clients: (n) => metrics.streamClients.set(n),
      pushed: (n) => metrics.streamPushed.inc(n),
      dropped: (reason) => metrics.streamDropped.inc({ reason }),
      resyncs: () => metrics.streamResyncs.inc(),
    },
  });
  const bs = options.barStream;
  const barStream = bs
    ? new BarStream({
        kafka: createKafka({ ...bs.kafka, connectionTimeoutMs: bs.kafka.connectionTimeoutMs ?? 5_000 }, logger),
        topic: bs.topic,
        logger,
        ...(bs.groupId === undefined ? {} : { groupId: bs.groupId }),
        onBars: (bars) => hub.publish(bars),
        onResync: () => hub.resync(),
        metrics: { records: (n) => metrics.barRecords.inc(n), decodeFailure: (reason) => metrics.barDecodeFailures.inc({ reason }) },
      })
    : undefined;
  const routes: OpsRoute[] = [
    ...loadStaticFiles().map((f) => ({ method: 'GET', path: f.path, handler: serveStatic(f) })),
    { method: 'GET', path: '/api/symbols', handler: api.handler('symbols', () => api.symbols()) },
    { method: 'GET', path: '/api/bars', handler: api.handler('bars', (p) => api.bars(p)) },
    { method: 'GET', path: '/api/stream', handler: streamHandler(hub, (status) => metrics.requests.inc({ route: 'stream', status: String(status) })) },
  ];
  const health = async (): Promise<HealthReport> => {
    const stream = barStream?.status();
    const checks: Record<string, { healthy: boolean; detail?: string }> = {};
    try {
      await sql.exec('SELECT 1');
      checks.questdb = { healthy: true };
    } catch (err) {
      checks.questdb = { healthy: false, detail: (err as Error).message };
    }
    if (stream) checks.barStream = stream;
    return { healthy: Object.values(checks).every((c) => c.healthy), checks };
  };
  let pinger: NodeJS.Timeout | undefined;
  let stopped: Promise<void> | undefined;
  const start = (): void => {
    barStream?.start();
    pinger ??= setInterval(() => hub.ping(), options.stream?.pingIntervalMs ?? 15_000);
    pinger.unref();
  };
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (pinger) clearInterval(pinger);
      hub.close();
      await barStream?.stop();
    })());
  return { registry, baseTable, routes, health, barStream, hub, start, stop };
}

/** `GET /api/stream`: server-sent events (`event: bar`, `event: resync`, `: ping`). */
function streamHandler(hub: BarHub, count: (status: number) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    let filter: StreamFilter;
    try {
      filter = parseStreamQuery(new URL(req.url ?? '/', 'http://localhost').searchParams);
    } catch (err) {
      if (!(err instanceof WebError)) throw err;
      count(400);
      sendJson(res, 400, { error: err.message });
      return;
    }
    const client = hub.add(filter, {
      // Called only once the hub accepted the client: a refused one still gets a status.
      open: () =>
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-store, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
          'x-content-type-options': 'nosniff',
        }),
      write: (chunk) => res.write(chunk),
      close: (reason) => (reason === 'slow' ? res.destroy() : res.end()),
    });
    if (client === 'full' || client === 'closed') {
      count(503);
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '5' });
      res.end(JSON.stringify({ error: client === 'full' ? 'too many stream clients; try again later' : 'shutting down' }));
      return;
    }
    count(200);
    req.socket.setNoDelay(true);
    res.on('drain', () => hub.drained(client));
    res.on('close', () => hub.remove(client));
  };
}

/**
 * Serves the chart page (`/`, `/app.js`, `/app.css`, `/vendor/lightweight-charts.js`), the
 * JSON API (`/api/symbols`, `/api/bars`) and `/health` (QuestDB answers `SELECT 1`) and
 * `/metrics`, all on one port.
 */
export async function startWeb(options: WebOptions): Promise<RunningWeb> {
  const logger = options.logger ?? createLogger({ service: 'web' });
  const app = createWebApp({ ...options, logger });
  app.start();
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
    barStream: app.barStream,
    close: () =>
      (closed ??= (async () => {
        await app.stop();
        await server.close();
        logger.info('web stopped');
      })()),
  };
}
