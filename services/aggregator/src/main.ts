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
  // The stop is bounded by bootService's default (10 s) whatever Kafka and QuestDB do: what was
  // not written and committed by then is consumed again at the next start (bars are upserts).
  start: ({ env, logger, registry, fail }) => startAggregator({ env, logger, registry, fail }),
});
