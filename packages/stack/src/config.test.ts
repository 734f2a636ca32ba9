import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kafkaProperties, newClusterId } from './kafka.js';
import { questdbServerConf } from './questdb.js';

test('Kafka KRaft single-node properties bind loopback and use replication factor 1', () => {
  const p = kafkaProperties({ dir: '/d', host: '127.0.0.1', ports: { broker: 19092, controller: 19093 }, overrides: { 'num.partitions': '3' } });
  for (const line of [
    'process.roles=broker,controller',
    'controller.quorum.voters=1@127.0.0.1:19093',
    'listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093',
    'advertised.listeners=PLAINTEXT://127.0.0.1:19092',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'log.dirs=/d/data',
    'num.partitions=3',
  ]) assert.ok(p.split('\n').includes(line), line);
});

test('QuestDB server.conf sets every listener and disables telemetry', () => {
  const c = questdbServerConf('127.0.0.1', { http: 1, pg: 2, ilp: 3, min: 4 });
  assert.match(c, /^http\.net\.bind\.to=127\.0\.0\.1:1$/m);
  assert.match(c, /^pg\.net\.bind\.to=127\.0\.0\.1:2$/m);
  assert.match(c, /^line\.tcp\.net\.bind\.to=127\.0\.0\.1:3$/m);
  assert.match(c, /^http\.min\.net\.bind\.to=127\.0\.0\.1:4$/m);
  assert.match(c, /^telemetry\.enabled=false$/m);
});

test('QuestDB server.conf keeps every pool at one thread with short spins; overrides win', () => {
  const c = questdbServerConf('127.0.0.1', { http: 1, pg: 2, ilp: 3, min: 4 }, { 'shared.query.worker.count': '4' });
  for (const pool of ['shared.network', 'shared.write', 'wal.apply', 'mat.view.refresh']) assert.match(c, new RegExp(`^${pool.replace(/\./g, '\\.')}\\.worker\\.count=1$`, 'm'), pool);
  assert.match(c, /^shared\.query\.worker\.count=4$/m);
  assert.doesNotMatch(c, /^shared\.query\.worker\.count=1$/m);
  assert.match(c, /^wal\.apply\.worker\.sleep\.threshold=50$/m);
});

test('cluster ids are 22 base64url characters and never start with - (the storage tool would read an option)', () => {
  for (let i = 0; i < 5000; i++) {
    const id = newClusterId();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    assert.equal(Buffer.from(id, 'base64url').length, 16);
  }
});
