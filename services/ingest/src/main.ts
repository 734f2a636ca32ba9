#!/usr/bin/env node
/**
 * The ingest service process: `bootService` parses the environment once, then runs
 * `startIngest` (SIGTERM → close websockets → flush the producer → disconnect) and serves
 * /health and /metrics on OPS_HOST:OPS_PORT. Exit codes: see `EXIT_CODES` in @cvd/common.
 */
import { bootService } from '@cvd/common';
import { createKafka, kafkaSettingsFromEnv } from '@cvd/kafka';
import { configFromEnv, ingestEnvSchema } from './env.js';
import { startIngest } from './ingest.js';

bootService({
  name: 'ingest',
  envSchema: ingestEnvSchema,
  ops: (env) => ({ host: env.OPS_HOST, port: env.OPS_PORT }),
  start: ({ env, logger, registry, fail }) =>
    startIngest({ config: configFromEnv(env), logger, kafka: createKafka(kafkaSettingsFromEnv(env, 'cvd-ingest'), logger), ops: false, registry, onFatal: fail }),
});
