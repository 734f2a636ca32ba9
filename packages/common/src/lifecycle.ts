import type { Logger } from 'pino';
import { ConfigError, CvdError } from '@cvd/core';

/**
 * The exit codes of every service process: one convention, so that a supervisor (Docker,
 * Kubernetes, systemd, `cvd run`) can tell a setting to fix from a crash to restart.
 *
 * - `0` {@link EXIT_CODES.ok}: stopped on SIGTERM/SIGINT after a clean drain.
 * - `1` {@link EXIT_CODES.failure}: a runtime failure — start-up could not reach a
 *   dependency, an uncaught exception or unhandled rejection, a stop that failed or timed
 *   out, a second signal while stopping. Restarting may help.
 * - `2` {@link EXIT_CODES.badConfig}: the configuration is wrong — the environment failed
 *   validation, or start-up refused a setting with a {@link ConfigError}. Restarting with
 *   the same settings cannot help (a restart policy may exclude this code).
 */
export const EXIT_CODES = { ok: 0, failure: 1, badConfig: 2 } as const;
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The slice of `process` that {@link runService} uses; tests pass a fake. */
export interface ProcessLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  exit(code: number): void;
}

/** Options of {@link runService}. */
export interface RunServiceOptions {
  readonly logger: Logger;
  /**
   * Connects and starts consuming; a throw (or rejection) fails start-up: exit code 1, or 2
   * when it is a {@link ConfigError} (see {@link EXIT_CODES}).
   */
  readonly start: () => void | Promise<void>;
  /**
   * Drains in order: stop consuming → flush sink → commit → disconnect. Called at most
   * once, also after a failed start (to release what was half-opened).
   */
  readonly stop: () => void | Promise<void>;
  /**
   * A stop taking longer than this is abandoned with exit code 1 — whatever Kafka and QuestDB
   * do, a service is gone within this bound of SIGTERM/SIGINT (what was not flushed or committed
   * is consumed again at the next start). @defaultValue 10_000
   */
  readonly stopTimeoutMs?: number;
  /** @defaultValue the real `process` */
  readonly process?: ProcessLike;
}

export interface ServiceHandle {
  /** Resolves `true` once start() finished, `false` if it failed. */
  readonly started: Promise<boolean>;
  /** Stops (once), then exits with `exitCode` (one of {@link EXIT_CODES}). Every call returns the same promise. */
  shutdown(reason: string, exitCode?: ExitCode): Promise<void>;
}

/** Default bound of a service's stop (see {@link RunServiceOptions.stopTimeoutMs}): 10 s. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

export const LIFECYCLE_ERROR_CODES = ['already-running', 'stop-timeout'] as const;
export class LifecycleError extends CvdError<(typeof LIFECYCLE_ERROR_CODES)[number]> {}

const installed = new WeakSet<ProcessLike>();

/**
 * Runs a service: start(), then waits for SIGTERM/SIGINT to call stop() once and exit 0.
 * A second signal while stopping forces exit 1. A failed start, an uncaught exception or
 * an unhandled rejection is logged as fatal and shuts down with exit 1 (the process state
 * cannot be trusted after either, which is also Node's default); a start refused with a
 * {@link ConfigError} exits 2. Services call it through {@link bootService}, which parses
 * the environment first.
 */
export function runService(options: RunServiceOptions): ServiceHandle {
  const proc = options.process ?? (process as unknown as ProcessLike);
  if (installed.has(proc)) {
    throw new LifecycleError('already-running', 'runService() was already called in this process');
  }
  installed.add(proc);
  const { logger } = options;
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  let shuttingDown: Promise<void> | undefined;

  const onSignal = (...args: unknown[]): void => {
    const signal = String(args[0]);
    if (shuttingDown !== undefined) {
      logger.warn({ signal }, 'second signal while stopping; forcing exit');
      proc.exit(EXIT_CODES.failure);
      return;
    }
    void shutdown(`signal ${signal}`, EXIT_CODES.ok);
  };
  const onUncaught = (...args: unknown[]): void => {
    logger.fatal({ err: args[0] }, 'uncaught exception');
    void shutdown('uncaught exception', EXIT_CODES.failure);
  };
  const onUnhandled = (...args: unknown[]): void => {
    logger.fatal({ err: args[0] }, 'unhandled promise rejection');
    void shutdown('unhandled rejection', EXIT_CODES.failure);
  };
  proc.on('SIGTERM', onSignal);
  proc.on('SIGINT', onSignal);
  proc.on('uncaughtException', onUncaught);
  proc.on('unhandledRejection', onUnhandled);

  function shutdown(reason: string, exitCode: ExitCode = EXIT_CODES.ok): Promise<void> {
    shuttingDown ??= (async () => {
      logger.info({ reason }, 'stopping');
      let code: ExitCode = exitCode;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(() => options.stop()),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new LifecycleError('stop-timeout', `stop() did not finish within ${stopTimeoutMs} ms`)),
              stopTimeoutMs,
            );
          }),
        ]);
        logger.info({ exitCode: code }, 'stopped');
      } catch (err) {
        code = EXIT_CODES.failure;
        logger.error({ err }, 'stop failed');
      } finally {
        clearTimeout(timer);
      }
      proc.off('SIGTERM', onSignal);
      proc.off('SIGINT', onSignal);
      proc.off('uncaughtException', onUncaught);
      proc.off('unhandledRejection', onUnhandled);
      installed.delete(proc);
      proc.exit(code);
    })();
    return shuttingDown;
  }

  logger.info('starting');
  const started = Promise.resolve()
    .then(() => options.start())
    .then(
      () => {
        logger.info('started');
        return true;
      },
      (err: unknown) => {
        logger.fatal({ err }, 'start failed');
        void shutdown('start failed', err instanceof ConfigError ? EXIT_CODES.badConfig : EXIT_CODES.failure);
        return false;
      },
    );
  return { started, shutdown };
}
