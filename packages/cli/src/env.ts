import { CvdError } from '@cvd/core';
import type { KafkaPorts, QuestDbPorts } from '@cvd/stack';

/** Environment the CLI reads, parsed once. A bad value fails with a message naming it. */
export interface CliEnv {
  kafkaPorts: KafkaPorts;
  questdbPorts: QuestDbPorts;
  host: string;
  cacheDir?: string;
  stackDir?: string;
}

/**
 * The user typed something the CLI cannot run (bad flag, bad env value): exit status 2 with
 * the message. Never retriable: the same command line fails the same way.
 */
export class CliUsageError extends CvdError<'usage'> {
  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super('usage', message, { cause: options.cause, retriable: false });
  }
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new CliUsageError(`${name}=${JSON.stringify(raw)} is not a TCP port (1–65535)`);
  }
  return n;
}

export function parseCliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  return {
    host: env.CVD_STACK_HOST || '127.0.0.1',
    kafkaPorts: { broker: port(env, 'CVD_KAFKA_PORT', 9092), controller: port(env, 'CVD_KAFKA_CONTROLLER_PORT', 9093) },
    questdbPorts: {
      http: port(env, 'CVD_QUESTDB_HTTP_PORT', 9000),
      pg: port(env, 'CVD_QUESTDB_PG_PORT', 8812),
      ilp: port(env, 'CVD_QUESTDB_ILP_PORT', 9009),
      min: port(env, 'CVD_QUESTDB_MIN_PORT', 9003),
    },
    ...(env.CVD_CACHE_DIR ? { cacheDir: env.CVD_CACHE_DIR } : {}),
    ...(env.CVD_STACK_DIR ? { stackDir: env.CVD_STACK_DIR } : {}),
  };
}
