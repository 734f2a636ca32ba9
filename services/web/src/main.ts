#!/usr/bin/env node
/**
 * The web process: `bootService` parses the environment once (a bad variable fails with its
 * message before anything listens), then serves the charts, the JSON API, the live bar
 * stream (`/api/stream`, fed by `TOPIC_BARS`), /health and /metrics on WEB_HOST:WEB_PORT —
 * the web service's ops endpoint is its only port. On SIGTERM the stream clients are ended
 * cleanly and the bar consumer stops (bounded) before the server closes.
 * Exit codes: see `EXIT_CODES` in @cvd/common.
 */
import { bootService } from '@cvd/common';
import { kafkaSettingsFromEnv } from '@cvd/kafka';
import { questdbSettingsFromEnv } from '@cvd/questdb';
import { privateGroupId } from './bar-stream.js';
import { WebEnv } from './env.js';
import { createWebApp } from './web.js';

bootService({
  name: 'web',
  envSchema: WebEnv,
  ops: (env) => ({ host: env.WEB_HOST, port: env.WEB_PORT }),
  start: async ({ env, logger, registry }) => {
    const questdb = questdbSettingsFromEnv(env);
    const groupId = privateGroupId();
    const app = createWebApp({
      questdb,
      table: env.WEB_BAR_TABLE,
      logger,
      registry,
      barStream: { kafka: kafkaSettingsFromEnv(env, groupId), topic: env.TOPIC_BARS, groupId },
      stream: { maxClients: env.WEB_STREAM_MAX_CLIENTS, maxPending: env.WEB_STREAM_MAX_PENDING },
    });
    app.start();
    logger.info({ table: app.baseTable, questdb: questdb.httpUrl, bars: env.TOPIC_BARS, group: groupId }, 'web started');
    return {
      routes: app.routes,
      health: app.health,
      stop: async () => {
        await app.stop();
        logger.info('web stopped');
      },
    };
  },
});
