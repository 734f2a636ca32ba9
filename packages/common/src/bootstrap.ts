/**
 * The one way a service process starts. Every `services/<name>/src/main.ts` is a
 * {@link ServiceDefinition} handed to {@link bootService}, so the four services parse their
 * environment the same way (once), log the same way, serve `/health` and `/metrics` the same
 * way and exit with the same codes ({@link EXIT_CODES}).
 */
import type { DestinationStream } from 'pino';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { ConfigError } from '@cvd/core';
import { parseEnv, type EnvSource } from './env.js';
import { createMetricsRegistry, startOpsServer, type HealthReport, type OpsRoute, type OpsServer } from './http-server.js';
import { EXIT_CODES, runService, type ProcessLike, type ServiceHandle } from './lifecycle.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';

/** What every service environment has: the root logger's level. */
export interface ServiceEnvBase {
  readonly LOG_LEVEL: LogLevel;
}

/** What {@link ServiceDefinition.start} receives: the environment parsed once, and the roots made from it. */
export interface ServiceContext<E> {
  readonly env: E;
  /** The pino root (`service: <name>`); the service `child()`s it per component. */
  readonly logger: Logger;
  /** The registry `/metrics` serves; the service registers its metrics on it. */
  readonly registry: Registry;
  /**
   * A failure the service cannot recover from while it runs (e.g. Kafka sends failing past the
   * give-up time): logs one `fatal` line with the error's message, stops the service (bounded)
   * and exits {@link EXIT_CODES.failure} (1), so the supervisor restarts it.
   */
  readonly fail: (err: Error) => void;
}

/** A started service, as the bootstrap drives it. */
export interface RunningService {
  /** Drains in order (stop consuming → flush sink → commit → disconnect). Called at most once. */
  stop(): Promise<void>;
  /** What `GET /health` answers. @defaultValue always healthy while the process runs */
  health?(): HealthReport | Promise<HealthReport>;
  /** Endpoints served beside `/health` and `/metrics` on the same port (the web service's charts and API). */
  readonly routes?: readonly OpsRoute[];
}

/** Where the ops server (`/health`, `/metrics` and the service's routes) listens. */
export interface OpsEndpoint {
  readonly host: string;
  /** 0 picks a free port; the bound one is logged (`ops server listening`). */
  readonly port: number;
}

/** One service process: its name, its environment and how to start it. */
export interface ServiceDefinition<S extends z.ZodType<ServiceEnvBase>, R extends RunningService = RunningService> {
  /** `service` in every log line, the metrics' `service` label and the `cvd-<name>:` prefix of a bad-environment message. */
  readonly name: string;
  /** The zod schema of every variable the service reads, parsed once, before anything else happens. */
  readonly envSchema: S;
  /** Where `/health` and `/metrics` are served, from the parsed environment. */
  readonly ops: (env: z.output<S>) => OpsEndpoint;
  /** Connects and starts working; the ops server starts once this resolved. */
  readonly start: (context: ServiceContext<z.output<S>>) => Promise<R>;
  /** A stop taking longer is abandoned (exit 1). @defaultValue 10_000 (`DEFAULT_STOP_TIMEOUT_MS`) */
  readonly stopTimeoutMs?: number;
}

/** Test seams of {@link bootService}; a real process passes none. */
export interface BootOptions {
  /** @defaultValue process.env */
  readonly env?: EnvSource;
  /** @defaultValue the real `process` */
  readonly process?: ProcessLike;
  /** Where a bad environment is reported (no logger exists yet). @defaultValue process.stderr */
  readonly stderr?: { write(text: string): unknown };
  /** Where log lines go. @defaultValue stdout */
  readonly logDestination?: DestinationStream;
}

/** A booted service: {@link ServiceHandle} plus what it started, for tests and embedding. */
export interface BootedService<R extends RunningService> extends ServiceHandle {
  readonly logger: Logger;
  readonly registry: Registry;
  /** The running service once start() resolved. */
  running(): R | undefined;
  /** The ops server once it listens. */
  ops(): OpsServer | undefined;
}

/**
 * Boots a service process:
 *
 * 1. parses the environment with the definition's zod schema — once; on a bad value it
 *    writes the one {@link ConfigError} message (secret values redacted by `parseEnv`) to
 *    stderr and exits {@link EXIT_CODES.badConfig} (2), before anything connects;
 * 2. creates the pino root logger (`LOG_LEVEL`) and the metrics registry;
 * 3. under {@link runService}: runs `start`, then serves `/health` (the service's
 *    `health()`), `/metrics` and its routes; SIGTERM/SIGINT stop the service, then the ops
 *    server, bounded by `stopTimeoutMs`; the exit code follows {@link EXIT_CODES}.
 *
 * The ops server starts after `start` so that `/health` never answers for a half-started
 * service (a supervisor sees "not listening" until the service works).
 *
 * @returns `undefined` when the environment was refused (the process is exiting).
 */
export function bootService<S extends z.ZodType<ServiceEnvBase>, R extends RunningService>(
  definition: ServiceDefinition<S, R>,
  options: BootOptions = {},
): BootedService<R> | undefined {
  const proc = options.process ?? (process as unknown as ProcessLike);
  let env: z.output<S>;
  try {
    env = parseEnv(definition.envSchema, options.env ?? process.env);
  } catch (err) {
    const stderr = options.stderr ?? process.stderr;
    stderr.write(`cvd-${definition.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    proc.exit(err instanceof ConfigError ? EXIT_CODES.badConfig : EXIT_CODES.failure);
    return undefined;
  }
  const logger = createLogger({
    service: definition.name,
    level: env.LOG_LEVEL,
    ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
  });
  const registry = createMetricsRegistry(definition.name);
  let running: R | undefined;
  let ops: OpsServer | undefined;
  let failed = false;
  const fail = (err: Error): void => {
    if (failed) return;
    failed = true;
    logger.fatal({ err }, `${err.message}: exiting (code ${EXIT_CODES.failure}) so that the supervisor restarts the service`);
    void handle.shutdown(`failure: ${err.message}`, EXIT_CODES.failure);
  };

  const handle = runService({
    logger,
    process: proc,
    ...(definition.stopTimeoutMs === undefined ? {} : { stopTimeoutMs: definition.stopTimeoutMs }),
    start: async () => {
      const service = await definition.start({ env, logger, registry, fail });
      running = service;
      const endpoint = definition.ops(env);
      ops = await startOpsServer({
        host: endpoint.host,
        port: endpoint.port,
        registry,
        logger,
        health: () => (service.health === undefined ? { healthy: true } : service.health()),
        ...(service.routes === undefined ? {} : { routes: service.routes }),
      });
    },
    stop: async () => {
      // The service first: /health keeps answering (unhealthy, draining) while it drains.
      try {
        await running?.stop();
      } finally {
        await ops?.close();
      }
    },
  });
  return { ...handle, logger, registry, running: () => running, ops: () => ops };
}
