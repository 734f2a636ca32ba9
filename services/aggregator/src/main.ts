#!/usr/bin/env node
/**
 * The aggregator process: `bootService` parses the environment once (a bad variable fails
 * with its message before anything connects), starts the consumer and serves /health and
 * /metrics on OPS_HOST:OPS_PORT. Exit codes: see `EXIT_CODES` in @cvd/common.
 */
import { bootService } from '@cvd/common';
import { AggregatorEnv } from './env.js';
import { startAggregator } from './service.js';

bootService({
  name: 'aggregator',
  envSchema: AggregatorEnv,
  ops: (env) => ({ host: env.OPS_HOST, port: env.OPS_PORT }),
  // Leaving the group cleanly and flushing the last bars can outlast the default 30 s.
  stopTimeoutMs: 45_000,
  start: ({ env, logger, registry }) => startAggregator({ env, logger, registry }),
});
