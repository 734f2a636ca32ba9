#!/usr/bin/env node
/**
 * The ingest service process: parse the environment once, then run `startIngest` under
 * `runService` (SIGTERM → close websockets → flush the producer → disconnect).
 */
import { ConfigError, createLogger, runService } from '@cvd/common';
import { createKafka, kafkaSettingsFromEnv } from '@cvd/kafka';
import { parseIngestEnv } from './env.js';
import { startIngest, type IngestHandle } from './ingest.js';

function loadEnv(): ReturnType<typeof parseIngestEnv> {
  try {
    return parseIngestEnv(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ingest: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

const { env, config } = loadEnv();
const logger = createLogger({ service: 'ingest', level: config.logLevel });
let handle: IngestHandle | undefined;

runService({
  logger,
  start: async () => {
    const kafka = createKafka(kafkaSettingsFromEnv(env, 'cvd-ingest'), logger);
    handle = await startIngest({ config, logger, kafka });
  },
  stop: async () => {
    await handle?.stop();
  },
});
