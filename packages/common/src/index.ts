// The error family and the retry policy live in @cvd/core (no dependencies, so the pure
// packages share them); re-exported here for the services.
export { CvdError, ConfigError, CONFIG_ERROR_CODES, isRetriable, toError, Backoff, retry, seededRandom, sleep } from '@cvd/core';
export type { CvdErrorOptions, ConfigErrorCode, BackoffOptions, RetryOptions } from '@cvd/core';
export { createLogger, DEFAULT_REDACT_PATHS, LOG_LEVELS, REDACTED } from './logger.js';
export type { Logger, LoggerOptions, LogLevel } from './logger.js';
export { RateLimitedLog } from './rate-limited-log.js';
export type { RateLimitedLogOptions } from './rate-limited-log.js';
export { envBoolean, envDuration, envList, envLogLevel, envPort, isSecretName, parseDurationMs, parseEnv } from './env.js';
export type { EnvSource } from './env.js';
export { createMetricsRegistry, OPS_SERVER_ERROR_CODES, OpsServerError, startOpsServer } from './http-server.js';
export type { HealthReport, OpsRoute, OpsServer, OpsServerOptions } from './http-server.js';
export { DEFAULT_HTTP_LIMITS, httpServerOptions, slowClientCutOffMs } from './http-limits.js';
export type { HttpLimits } from './http-limits.js';
export { DEFAULT_STOP_TIMEOUT_MS, EXIT_CODES, LIFECYCLE_ERROR_CODES, LifecycleError, runService } from './lifecycle.js';
export type { ExitCode, ProcessLike, RunServiceOptions, ServiceHandle } from './lifecycle.js';
export { bootService } from './bootstrap.js';
export type { BootOptions, BootedService, OpsEndpoint, RunningService, ServiceContext, ServiceDefinition, ServiceEnvBase } from './bootstrap.js';
