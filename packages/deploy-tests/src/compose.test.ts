/**
 * docker-compose.yml validates with the real Compose validator, and its structure meets the
 * deployment contract (health-gated start order, named volumes, scalable aggregator, pinned
 * images, loopback-only admin API).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { argv, loadCompose, REPO_ROOT, type ComposeService } from './repo.js';

const compose = loadCompose();
const svc = (name: string): ComposeService => {
  const s = compose.services[name];
  assert.ok(s, `service ${name} missing from docker-compose.yml`);
  return s;
};

/** `docker-compose config -q` in the repo root with the given extra environment. */
function composeConfig(extraEnv: Record<string, string | undefined> = {}, args: string[] = ['-q']) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete env[k];
  return spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', ...args], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 60_000 });
}

describe('docker-compose.yml', () => {
  test('validates with docker-compose (config -q)', () => {
    const r = composeConfig({ CONFIG_ADMIN_TOKEN: undefined, CVD_PUBLISH_HOST: undefined, LOG_LEVEL: undefined });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      assert.fail('`docker-compose` is not installed, so docker-compose.yml cannot be validated: install it (Debian/Ubuntu: `apt-get install -y docker-compose`)');
    }
    assert.ifError(r.error);
    assert.equal(r.status, 0, `docker-compose config -q failed:\n${r.stderr}${r.stdout}`);
    assert.equal(r.stderr.trim(), '', `docker-compose config -q printed warnings:\n${r.stderr}`);
  });

  test('validates with every host override set (token, publish host, log level, symbol file)', () => {
    const r = composeConfig({ CONFIG_ADMIN_TOKEN: 'a'.repeat(32), CVD_PUBLISH_HOST: '0.0.0.0', LOG_LEVEL: 'debug', CVD_SYMBOLS_FILE: 'other.yaml', GRAFANA_ADMIN_PASSWORD: 'secret' }, []);
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') assert.fail('`docker-compose` is not installed (apt-get install -y docker-compose)');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /CONFIG_ADMIN_TOKEN: a{32}/);
    assert.match(r.stdout, /CONFIG_FILE: \/app\/config\/other\.yaml/);
    assert.match(r.stdout, /0\.0\.0\.0/);
  });

  test('has the expected services', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['aggregator', 'config', 'grafana', 'ingest', 'kafka', 'questdb', 'topics', 'web']);
  });

  test('third-party images are pinned to a version', () => {
    const want: Record<string, RegExp> = {
      kafka: /^apache\/kafka:4\.1\.1$/,
      topics: /^apache\/kafka:4\.1\.1$/,
      questdb: /^questdb\/questdb:9\.3\.4$/,
      grafana: /^grafana\/grafana:\d+\.\d+\.\d+$/,
    };
    for (const [name, re] of Object.entries(want)) assert.match(svc(name).image ?? '', re, `${name} image`);
  });

  test('the project services build the one Dockerfile image and restart unless stopped', () => {
    for (const name of ['config', 'ingest', 'aggregator', 'web']) {
      const s = svc(name);
      assert.deepEqual(s.build, { context: '.', dockerfile: 'Dockerfile' }, `${name} build`);
      assert.equal(s.restart, 'unless-stopped', `${name} restart`);
      assert.ok(s.healthcheck?.test, `${name} has a healthcheck`);
    }
    for (const name of ['kafka', 'questdb', 'grafana']) {
      assert.equal(svc(name).restart, 'unless-stopped', `${name} restart`);
      assert.ok(svc(name).healthcheck?.test, `${name} has a healthcheck`);
    }
  });

  test('start order is gated on health and on the topic initialiser', () => {
    const deps = (name: string): Record<string, string | undefined> => {
      const d = svc(name).depends_on;
      assert.ok(d && !Array.isArray(d), `${name}: depends_on must be a mapping with conditions`);
      return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.condition]));
    };
    assert.deepEqual(deps('topics'), { kafka: 'service_healthy' });
    assert.deepEqual(deps('config'), { kafka: 'service_healthy', topics: 'service_completed_successfully' });
    assert.deepEqual(deps('ingest'), { kafka: 'service_healthy', topics: 'service_completed_successfully' });
    assert.deepEqual(deps('aggregator'), { kafka: 'service_healthy', questdb: 'service_healthy', topics: 'service_completed_successfully' });
    assert.deepEqual(deps('web'), { kafka: 'service_healthy', questdb: 'service_healthy', topics: 'service_completed_successfully' }); // live bars from cvd.bars.v1
    assert.deepEqual(deps('grafana'), { questdb: 'service_healthy' });
    assert.equal(svc('topics').restart, 'no', 'a one-shot must not restart');
  });

  test('the aggregator scales: no container_name, no host ports', () => {
    const a = svc('aggregator');
    assert.equal(a.container_name, undefined);
    assert.equal(a.ports, undefined);
    for (const [name, s] of Object.entries(compose.services)) assert.equal(s.container_name, undefined, `${name}: container_name blocks --scale and parallel projects`);
  });

  test('state lives in named volumes', () => {
    const named = Object.keys(compose.volumes ?? {});
    const mounts: Record<string, string> = { kafka: '/var/lib/kafka/data', questdb: '/var/lib/questdb', grafana: '/var/lib/grafana' };
    for (const [name, target] of Object.entries(mounts)) {
      const vol = (svc(name).volumes ?? []).find((v) => v.split(':')[1] === target);
      assert.ok(vol, `${name}: nothing mounted at ${target}`);
      assert.ok(named.includes(vol.split(':')[0] as string), `${name}: ${target} must be a named volume, got ${vol}`);
    }
    // Kafka's log dir is the mounted volume.
    const env = svc('kafka').environment as Record<string, string>;
    assert.equal(env.KAFKA_LOG_DIRS, mounts.kafka);
  });

  test('published ports: admin API on loopback only; web 8080, Grafana 3000, QuestDB 9000/8812/9009', () => {
    assert.deepEqual(svc('config').ports, ['127.0.0.1:8081:8081']);
    const published = (name: string) => (svc(name).ports ?? []).map((p) => p.split(':').slice(-2).join(':'));
    assert.deepEqual(published('web'), ['8080:8080']);
    assert.deepEqual(published('grafana'), ['3000:3000']);
    assert.deepEqual(published('questdb'), ['9000:9000', '8812:8812', '9009:9009']);
    for (const name of ['ingest', 'aggregator', 'topics']) assert.equal(svc(name).ports, undefined, `${name} publishes no ports`);
  });

  test('the symbol directory is mounted read-only where CONFIG_FILE points', () => {
    const mount = (svc('config').volumes ?? []).find((v) => v.includes(':/app/config'));
    assert.equal(mount, '${CVD_CONFIG_DIR:-./config}:/app/config:ro');
    const env = svc('config').environment as Record<string, string>;
    assert.match(env.CONFIG_FILE ?? '', /^\/app\/config\//);
  });

  test('the topic initialiser runs the mounted script with the image\'s kafka-topics.sh', () => {
    const t = svc('topics');
    assert.deepEqual(argv(t.entrypoint), ['/bin/bash', '/opt/cvd/create-topics.sh']);
    assert.ok((t.volumes ?? []).includes('./infra/docker/kafka/create-topics.sh:/opt/cvd/create-topics.sh:ro'));
  });
});
