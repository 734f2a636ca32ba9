/**
 * docker-compose.yml sets every variable each service reads (the keys of its zod env schema),
 * sets no variable the service does not read (typos), and the values it sets parse.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AggregatorEnv, parseAggregatorEnv } from '@cvd/aggregator';
import { configEnvShape, parseConfigEnv } from '@cvd/config';
import { ingestEnvShape, parseIngestEnv } from '@cvd/ingest';
import { parseWebEnv, WebEnv } from '@cvd/web';
import { argv, containerEnv, healthcheckPort, loadCompose, serviceEnv } from './repo.js';

interface ServiceSchema {
  /** Every variable the service reads. */
  keys: readonly string[];
  /** The service's own parser (throws one message naming each bad variable). */
  parse: (env: Record<string, string>) => unknown;
}

const SCHEMAS: Record<string, ServiceSchema> = {
  config: { keys: Object.keys(configEnvShape), parse: (env) => parseConfigEnv(env) },
  ingest: { keys: Object.keys(ingestEnvShape), parse: (env) => parseIngestEnv(env) },
  aggregator: { keys: Object.keys(AggregatorEnv.shape), parse: (env) => parseAggregatorEnv(env) },
  web: { keys: Object.keys(WebEnv.shape), parse: (env) => parseWebEnv(env) },
};

/**
 * Variables deliberately NOT set in docker-compose.yml, so the service uses its default.
 * Keep this short; every entry needs a reason.
 */
export const LEFT_AT_DEFAULT: Readonly<Record<string, string>> = {
  // The compose broker is PLAINTEXT without authentication; the schema rejects an empty
  // mechanism, so these can only be absent (set them in an override file for a SASL cluster).
  KAFKA_SASL_MECHANISM: 'plaintext broker: no SASL',
  KAFKA_SASL_USERNAME: 'plaintext broker: no SASL',
  KAFKA_SASL_PASSWORD: 'plaintext broker: no SASL',
  // Open-source QuestDB without HTTP auth; these exist for QuestDB Enterprise / http.user.
  QUESTDB_USERNAME: 'QuestDB OSS: no HTTP auth',
  QUESTDB_PASSWORD: 'QuestDB OSS: no HTTP auth',
  QUESTDB_TOKEN: 'QuestDB OSS: no ILP token',
  // Must differ per replica: the default (hostname-pid) is the container id, unique under
  // `--scale aggregator=N`; any fixed value would make the replicas collide.
  AGGREGATOR_INSTANCE_ID: 'unique per replica by default (container hostname)',
  // Benchmark-only opt-in (one histogram observation per trade); off in production.
  AGGREGATOR_LATENCY_METRICS: 'benchmark-only opt-in metric (cvd bench)',
};

/** Any valid token: the compose file passes CONFIG_ADMIN_TOKEN through from the host. */
const HOST_ENV = { CONFIG_ADMIN_TOKEN: 'x'.repeat(32) };

const compose = loadCompose();

/** Services that run the project image with `services/<name>/dist/main.js`. */
function cvdServices(): [string, string][] {
  return Object.entries(compose.services)
    .map(([name, s]) => [name, argv(s.command).find((a) => /^services\/[^/]+\/dist\/main\.js$/.test(a))] as const)
    .filter((e): e is readonly [string, string] => e[1] !== undefined)
    .map(([name, script]) => [name, script]);
}

describe('docker-compose.yml environment vs the services\' env schemas', () => {
  test('every service started from the project image has a schema here', () => {
    const names = cvdServices().map(([name]) => name).sort();
    assert.deepEqual(names, Object.keys(SCHEMAS).sort(), 'a service runs services/*/dist/main.js without an env schema in this test (add it to SCHEMAS)');
  });

  test('the allow-list names only variables some service reads', () => {
    const all = new Set(Object.values(SCHEMAS).flatMap((s) => s.keys));
    for (const key of Object.keys(LEFT_AT_DEFAULT)) assert.ok(all.has(key), `${key} is in LEFT_AT_DEFAULT but no service reads it`);
  });

  for (const [name, schema] of Object.entries(SCHEMAS)) {
    describe(name, () => {
      const service = compose.services[name];

      test('is in docker-compose.yml', () => {
        assert.ok(service, `service ${name} missing from docker-compose.yml`);
      });

      test('sets every variable the service reads, except the allow-list', () => {
        const set = new Set(Object.keys(serviceEnv(service ?? {})));
        const missing = schema.keys.filter((k) => !set.has(k) && !(k in LEFT_AT_DEFAULT));
        assert.deepEqual(missing, [], `${name}: variables read by the service but not set in docker-compose.yml: ${missing.join(', ')}`);
      });

      test('sets no variable the service does not read, and none of the allow-list', () => {
        const keys = new Set(schema.keys);
        const env = Object.keys(serviceEnv(service ?? {}));
        const unknown = env.filter((k) => !keys.has(k));
        assert.deepEqual(unknown, [], `${name}: variables set in docker-compose.yml that the service does not read (typo?): ${unknown.join(', ')}`);
        const allowListed = env.filter((k) => k in LEFT_AT_DEFAULT);
        assert.deepEqual(allowListed, [], `${name}: remove these from LEFT_AT_DEFAULT, they are set: ${allowListed.join(', ')}`);
      });

      test('the values parse with the service\'s own env parser', () => {
        const env = containerEnv(service ?? {}, HOST_ENV);
        assert.doesNotThrow(() => schema.parse(env), (err: unknown) => `${name}: ${(err as Error).message}`);
      });
    });
  }

  test('ops and admin listeners bind 0.0.0.0 inside the containers, and healthchecks probe the ops port', () => {
    const portVar: Record<string, [host: string, port: string]> = {
      config: ['OPS_HOST', 'OPS_PORT'],
      ingest: ['OPS_HOST', 'OPS_PORT'],
      aggregator: ['OPS_HOST', 'OPS_PORT'],
      web: ['WEB_HOST', 'WEB_PORT'],
    };
    for (const [name, [hostVar, portVarName]] of Object.entries(portVar)) {
      const env = containerEnv(compose.services[name] ?? {}, HOST_ENV);
      assert.equal(env[hostVar], '0.0.0.0', `${name}: ${hostVar}`);
      assert.equal(healthcheckPort(compose.services[name] ?? {}), Number(env[portVarName]), `${name}: the healthcheck must fetch http://127.0.0.1:${env[portVarName]}/health`);
    }
    assert.equal(containerEnv(compose.services.config ?? {}, HOST_ENV).CONFIG_ADMIN_HOST, '0.0.0.0');
  });

  test('the services agree on Kafka, topics and the bar table', () => {
    const envs = Object.fromEntries(Object.keys(SCHEMAS).map((n) => [n, containerEnv(compose.services[n] ?? {}, HOST_ENV)]));
    for (const key of ['KAFKA_BROKERS', 'TOPIC_TRADES', 'TOPIC_SYMBOLS', 'TOPIC_DEADLETTER', 'TOPIC_AGGREGATOR_STATE', 'TRADES_PARTITIONS']) {
      const values = new Set(['config', 'ingest', 'aggregator', 'topics'].map((n) => (n === 'topics' ? containerEnv(compose.services.topics ?? {})[key] : envs[n]?.[key])));
      assert.equal(values.size, 1, `${key} differs between config, ingest, aggregator and topics: ${[...values].join(' / ')}`);
    }
    assert.equal(envs.aggregator?.AGGREGATOR_BAR_TABLE, envs.web?.WEB_BAR_TABLE, 'aggregator writes and web reads the same bar table');
    assert.equal(envs.aggregator?.QUESTDB_HTTP_URL, envs.web?.QUESTDB_HTTP_URL);
  });
});
