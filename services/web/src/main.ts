#!/usr/bin/env node
/**
 * The web process: `bootService` parses the environment once (a bad variable fails with its
 * message before anything listens), then serves the charts, the JSON API, /health and
 * /metrics on WEB_HOST:WEB_PORT — the web service's ops endpoint is its only port.
 * Exit codes: see `EXIT_CODES` in @cvd/common.
 */
import { bootService } from '@cvd/common';
import { questdbSettingsFromEnv } from '@cvd/questdb';
import { WebEnv } from './env.js';
import { createWebApp } from './web.js';

bootService({
  name: 'web',
  envSchema: WebEnv,
  ops: (env) => ({ host: env.WEB_HOST, port: env.WEB_PORT }),
  start: async ({ env, logger, registry }) => {
    const questdb = questdbSettingsFromEnv(env);
    const app = createWebApp({ questdb, table: env.WEB_BAR_TABLE, logger, registry });
    logger.info({ table: app.baseTable, questdb: questdb.httpUrl }, 'web started');
    return { routes: app.routes, health: app.health, stop: async () => logger.info('web stopped') };
  },
});
