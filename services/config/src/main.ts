#!/usr/bin/env node
/**
 * `node services/config/dist/main.js` — runs the config service with settings from the
 * environment (see the README): `bootService` parses it once, starts the service and serves
 * /health and /metrics on OPS_HOST:OPS_PORT. SIGTERM/SIGINT stop it cleanly. Exit codes: see
 * `EXIT_CODES` in @cvd/common.
 */
import { bootService } from '@cvd/common';
import { startConfigService } from './config-service.js';
import { configEnvSchema, optionsFromEnv } from './env.js';

bootService({
  name: 'config',
  envSchema: configEnvSchema,
  ops: (env) => ({ host: env.OPS_HOST, port: env.OPS_PORT }),
  // The bootstrap serves /health and /metrics: the service serves none itself.
  start: ({ env, logger, registry, fail }) => startConfigService({ ...optionsFromEnv(env), ops: null, logger, registry, onFatal: fail }),
});
