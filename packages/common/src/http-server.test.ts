import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter } from 'prom-client';
import { createLogger } from './logger.js';
import { createMetricsRegistry, startOpsServer, OpsServerError, type HealthReport } from './http-server.js';

const logger = createLogger({ service: 'test', level: 'silent' });

test('serves /health, /metrics, extra routes, 404/405, and closes idempotently', async () => {
  const registry = createMetricsRegistry('test-svc');
  const counter = new Counter({ name: 'cvd_test_frames_total', help: 'frames', registers: [registry] });
  counter.inc(3);
  let report: HealthReport = { healthy: true, checks: { kafka: { healthy: true } } };
  const server = await startOpsServer({
    port: 0,
    registry,
    logger,
    health: () => report,
    routes: [
      { method: 'GET', path: '/symbols', handler: (_req, res) => void res.end('BTCUSDT') },
      {
        method: 'POST',
        path: '/boom',
        handler: () => {
          throw new Error('route failure');
        },
      },
    ],
  });
  try {
    assert.equal(server.host, '127.0.0.1');
    assert.ok(server.port > 0);

    let res = await fetch(`${server.url}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), report);

    report = { healthy: false, checks: { kafka: { healthy: false, detail: 'no brokers' } } };
    res = await fetch(`${server.url}/health?verbose=1`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), report);

    res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /cvd_test_frames_total\{service="test-svc"\} 3/);
    assert.match(text, /cvd_process_cpu_user_seconds_total/);
    assert.match(text, /cvd_nodejs_eventloop_lag_seconds/);

    res = await fetch(`${server.url}/symbols`);
    assert.equal(await res.text(), 'BTCUSDT');
    assert.equal((await fetch(`${server.url}/boom`, { method: 'POST' })).status, 500);
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    assert.equal((await fetch(`${server.url}/health`, { method: 'POST' })).status, 405);
  } finally {
    await Promise.all([server.close(), server.close()]);
    await server.close();
  }
  await assert.rejects(fetch(`${server.url}/health`));
});

test('a throwing health check is a 503', async () => {
  const server = await startOpsServer({
    port: 0,
    registry: createMetricsRegistry('t'),
    logger,
    health: async () => {
      throw new Error('questdb down');
    },
  });
  try {
    const res = await fetch(`${server.url}/health`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { healthy: false, error: 'questdb down' });
  } finally {
    await server.close();
  }
});

test('listen failure is a typed error', async () => {
  const a = await startOpsServer({ port: 0, registry: createMetricsRegistry('a'), logger, health: () => ({ healthy: true }) });
  try {
    await assert.rejects(
      startOpsServer({ port: a.port, registry: createMetricsRegistry('b'), logger, health: () => ({ healthy: true }) }),
      (err: unknown) => err instanceof OpsServerError && err.code === 'listen-failed',
    );
  } finally {
    await a.close();
  }
});
