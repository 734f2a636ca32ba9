#!/usr/bin/env node
import { createLogger, runService } from '@cvd/common';
import { parseAggregatorEnv } from './env.js';
import { startAggregator, type RunningAggregator } from './service.js';

// Parse first so a bad variable fails with its message before anything connects.
let env;
try {
  env = parseAggregatorEnv();
} catch (err) {
  console.error(`cvd-aggregator: ${(err as Error).message}`);
  process.exit(2);
}
const logger = createLogger({ service: 'aggregator', level: env.LOG_LEVEL });
let running: RunningAggregator | undefined;
runService({
  logger,
  stopTimeoutMs: 45_000,
  start: async () => {
    running = await startAggregator({ logger });
  },
  stop: async () => {
    await running?.stop();
  },
});
