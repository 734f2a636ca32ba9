import { createLogger, type Logger } from '@cvd/common';
import { createKafka, type Kafka, type KafkaSettings } from '@cvd/kafka';
import { assertTableName, DEFAULT_BAR_TABLE, type QuestDbSettings } from '@cvd/questdb';
import { CliUsageError } from '../env.js';
import { CliFailure } from './data-args.js';

/**
 * What the data verbs (symbols, bars, tail, export, import, rebuild, status) read from the
 * environment, parsed once per command. Same variable names as the services.
 */
export interface DataEnv {
  questdb: QuestDbSettings;
  brokers: string[];
  topics: { trades: string; symbols: string };
  adminUrl: string;
  adminToken: string | undefined;
  barTable: string;
  groupId: string;
  ops: { config: string; ingest: string; aggregator: string };
}

function url(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new CliUsageError(`${name}=${JSON.stringify(raw)} is not a URL (expected e.g. ${fallback})`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliUsageError(`${name}=${JSON.stringify(raw)} must be an http(s) URL`);
  return raw.replace(/\/+$/, '');
}

/** The web service for `cvd tail`: `--web-url`, else `WEB_URL`, else http://127.0.0.1:8080 (its default port). */
export function webUrlFromEnv(env: NodeJS.ProcessEnv, flag?: string): string {
  return flag === undefined ? url(env, 'WEB_URL', 'http://127.0.0.1:8080') : url({ '--web-url': flag }, '--web-url', 'http://127.0.0.1:8080');
}

export function parseDataEnv(env: NodeJS.ProcessEnv = process.env): DataEnv {
  const brokers = (env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((s) => s.trim()).filter(Boolean);
  for (const b of brokers) if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new CliUsageError(`KAFKA_BROKERS: ${JSON.stringify(b)} is not host:port`);
  if (brokers.length === 0) throw new CliUsageError('KAFKA_BROKERS is empty (expected host:port[,host:port])');
  const timeout = env.QUESTDB_REQUEST_TIMEOUT ? Number(env.QUESTDB_REQUEST_TIMEOUT) : 10_000;
  if (!(timeout > 0)) throw new CliUsageError(`QUESTDB_REQUEST_TIMEOUT=${JSON.stringify(env.QUESTDB_REQUEST_TIMEOUT)} must be a positive number of ms`);
  const table = env.AGGREGATOR_BAR_TABLE || DEFAULT_BAR_TABLE;
  try {
    assertTableName(table);
  } catch (err) {
    throw new CliUsageError(`AGGREGATOR_BAR_TABLE: ${(err as Error).message}`, { cause: err });
  }
  const token = env.CONFIG_ADMIN_TOKEN || undefined;
  return {
    questdb: {
      httpUrl: url(env, 'QUESTDB_HTTP_URL', 'http://127.0.0.1:9000'),
      ...(env.QUESTDB_USERNAME ? { username: env.QUESTDB_USERNAME } : {}),
      ...(env.QUESTDB_PASSWORD ? { password: env.QUESTDB_PASSWORD } : {}),
      ...(env.QUESTDB_TOKEN ? { token: env.QUESTDB_TOKEN } : {}),
      requestTimeoutMs: timeout,
    },
    brokers,
    topics: { trades: env.TOPIC_TRADES || 'cvd.trades.v1', symbols: env.TOPIC_SYMBOLS || 'cvd.symbols.v1' },
    adminUrl: url(env, 'CONFIG_ADMIN_URL', 'http://127.0.0.1:8081'),
    adminToken: token,
    barTable: table,
    groupId: env.AGGREGATOR_GROUP_ID || 'cvd-aggregator',
    ops: {
      config: url(env, 'CONFIG_OPS_URL', 'http://127.0.0.1:9465'),
      ingest: url(env, 'INGEST_OPS_URL', 'http://127.0.0.1:9464'),
      aggregator: url(env, 'AGGREGATOR_OPS_URL', 'http://127.0.0.1:9466'),
    },
  };
}

/** Logs of the libraries go to stderr (stdout carries tables and CSV), errors only. */
export function cliLogger(level: 'error' | 'warn' | 'silent' = 'error'): Logger {
  return createLogger({ service: 'cli', level, destination: process.stderr });
}

export function cliKafka(env: DataEnv, clientId: string, logger: Logger = cliLogger()): Kafka {
  const settings: KafkaSettings = { brokers: env.brokers, clientId, connectionTimeoutMs: 5_000, requestTimeoutMs: 30_000 };
  return createKafka(settings, logger);
}

export const DATA_ENV_HELP = `Environment: QUESTDB_HTTP_URL (http://127.0.0.1:9000), KAFKA_BROKERS (127.0.0.1:9092),
  CONFIG_ADMIN_URL (http://127.0.0.1:8081), CONFIG_ADMIN_TOKEN, TOPIC_TRADES (cvd.trades.v1),
  AGGREGATOR_BAR_TABLE (cvd_bars_1m)`;

/** Whether any broker accepts a TCP connection within `timeoutMs` (the Kafka client itself would retry for about a minute). */
export async function anyBrokerReachable(brokers: readonly string[], timeoutMs = 3_000): Promise<boolean> {
  const { connect } = await import('node:net');
  const one = (b: string): Promise<boolean> =>
    new Promise((resolve) => {
      const i = b.lastIndexOf(':');
      const socket = connect({ host: b.slice(0, i), port: Number(b.slice(i + 1)) });
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
  return (await Promise.all(brokers.map(one))).some(Boolean);
}

export async function requireKafka(env: DataEnv): Promise<void> {
  if (!(await anyBrokerReachable(env.brokers))) throw new CliFailure('unreachable', `Kafka at ${env.brokers.join(',')} is unreachable; start it (cvd stack up) or set KAFKA_BROKERS`);
}
