#!/usr/bin/env node
/**
 * `node services/config/dist/main.js` — runs the config service with settings from the
 * environment (see the README). SIGTERM/SIGINT stop it cleanly.
 */
import { createLogger, runService } from '@cvd/common';
import { startConfigService, type ConfigService } from './config-service.js';
import { optionsFromEnv, parseConfigEnv } from './env.js';

let env;
try {
  env = parseConfigEnv();
} catch (err) {
  // Before a logger exists: print the message (it never contains secret values) and fail.
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const logger = createLogger({ service: 'config', level: env.LOG_LEVEL });
let service: ConfigService | undefined;
runService({
  logger,
  start: async () => {
    service = await startConfigService({ ...optionsFromEnv(env), logger });
  },
  stop: async () => {
    await service?.stop();
  },
});
