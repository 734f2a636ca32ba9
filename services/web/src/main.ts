#!/usr/bin/env node
import { createLogger, runService } from '@cvd/common';
import { questdbSettingsFromEnv } from '@cvd/questdb';
import { parseWebEnv } from './env.js';
import { startWeb, type RunningWeb } from './web.js';

// Parse first so a bad variable fails with its message before anything listens.
let env;
try {
  env = parseWebEnv();
} catch (err) {
  console.error(`cvd-web: ${(err as Error).message}`);
  process.exit(2);
}
const logger = createLogger({ service: 'web', level: env.LOG_LEVEL });
let running: RunningWeb | undefined;
runService({
  logger,
  start: async () => {
    running = await startWeb({ questdb: questdbSettingsFromEnv(env), table: env.WEB_BAR_TABLE, host: env.WEB_HOST, port: env.WEB_PORT, logger });
  },
  stop: async () => {
    await running?.close();
  },
});
