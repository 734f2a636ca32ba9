/**
 * The topic initialiser matches @cvd/kafka's topic specs, and Grafana's provisioning is
 * consistent (data source = QuestDB's PG wire credentials, dashboard uses that data source).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_TOPICS, pipelineTopics } from '@cvd/kafka';
import { BAR_COLUMNS } from '@cvd/questdb';
import { extractQueries, loadDashboard } from './dashboard.js';
import { loadCompose, readRepoFile, serviceEnv } from './repo.js';

interface ScriptTopic {
  envVar: string;
  topic: string;
  partitions: number;
  configs: Record<string, string>;
}

/** The `create "${TOPIC_X:-name}" <partitions> k=v,k=v` lines of create-topics.sh. */
function scriptTopics(partitions: number): ScriptTopic[] {
  const text = readRepoFile('infra/docker/kafka/create-topics.sh');
  const out: ScriptTopic[] = [];
  for (const line of text.split('\n')) {
    const m = /^create "\$\{(\w+):-([^}]+)\}" (\S+) (\S+)\s*$/.exec(line);
    if (!m) continue;
    const p = m[3] === '"$PARTITIONS"' ? partitions : Number(m[3]);
    const configs = Object.fromEntries((m[4] as string).split(',').map((kv) => kv.split('=') as [string, string]));
    out.push({ envVar: m[1] as string, topic: m[2] as string, partitions: p, configs });
  }
  return out;
}

describe('topic initialiser (infra/docker/kafka/create-topics.sh)', () => {
  test('creates exactly the topics of pipelineTopics(), with the same partitions and configs', () => {
    const partitions = Number(serviceEnv(loadCompose().services.topics ?? {}).TRADES_PARTITIONS);
    assert.equal(partitions, 12);
    const script = scriptTopics(partitions);
    const want = pipelineTopics(DEFAULT_TOPICS, partitions);
    assert.deepEqual(
      script.map(({ topic, partitions: p, configs }) => ({ topic, partitions: p, configs })),
      want.map(({ topic, partitions: p, configs }) => ({ topic, partitions: p, configs: configs ?? {} })),
    );
  });

  test('the contract values: 12 trade partitions, 7-day retention, compacted symbols and 64 MiB state messages', () => {
    const byTopic = Object.fromEntries(scriptTopics(12).map((t) => [t.topic, t]));
    assert.equal(byTopic['cvd.trades.v1']?.partitions, 12);
    assert.equal(byTopic['cvd.trades.v1']?.configs['retention.ms'], String(7 * 24 * 3600 * 1000));
    assert.equal(byTopic['cvd.symbols.v1']?.configs['cleanup.policy'], 'compact');
    assert.ok(byTopic['cvd.deadletter.v1']);
    assert.equal(byTopic['cvd.aggregator-state.v1']?.partitions, 12);
    assert.equal(byTopic['cvd.aggregator-state.v1']?.configs['cleanup.policy'], 'compact');
    assert.equal(byTopic['cvd.aggregator-state.v1']?.configs['max.message.bytes'], '67108864');
  });

  test('topic names come from the same TOPIC_* variables the services read', () => {
    const env = serviceEnv(loadCompose().services.topics ?? {});
    for (const t of scriptTopics(12)) assert.equal(env[t.envVar], t.topic, `${t.envVar} in the topics service`);
  });
});

describe('Grafana provisioning (infra/docker/grafana)', () => {
  const datasources = (parse(readRepoFile('infra/docker/grafana/provisioning/datasources/questdb.yaml')) as { datasources: Record<string, any>[] }).datasources;
  const qdb = datasources.find((d) => d.uid === 'questdb');

  test('the QuestDB data source is Grafana\'s PostgreSQL type on questdb:8812 with QuestDB\'s PG credentials', () => {
    assert.ok(qdb, 'a data source with uid "questdb"');
    assert.ok(['grafana-postgresql-datasource', 'postgres'].includes(qdb.type), `type ${qdb.type}`);
    assert.equal(qdb.url, 'questdb:8812');
    assert.equal(qdb.jsonData?.database, 'qdb');
    assert.equal(qdb.jsonData?.sslmode, 'disable');
    const env = serviceEnv(loadCompose().services.questdb ?? {});
    assert.equal(qdb.user, env.QDB_PG_USER);
    assert.equal(qdb.secureJsonData?.password, env.QDB_PG_PASSWORD);
    assert.equal(qdb.user, 'admin');
    assert.equal(qdb.secureJsonData?.password, 'quest');
  });

  test('the dashboard uses that data source, has a symbol variable, and the required panels', () => {
    const dash = loadDashboard();
    const queries = extractQueries(dash);
    assert.ok(queries.length >= 4, 'three panels and the symbol variable');
    for (const q of queries) assert.equal(q.datasourceUid, 'questdb', `${q.where}: data source`);
    const vars = (dash.templating?.list ?? []).map((v) => v.name);
    assert.ok(vars.includes('symbol'));
    const panels = dash.panels ?? [];
    assert.ok(panels.some((p) => p.type === 'timeseries' && /cvd_close/.test(JSON.stringify(p.targets))), 'time series of cvd_close');
    assert.ok(panels.some((p) => p.type === 'timeseries' && p.fieldConfig?.defaults?.custom?.drawStyle === 'bars' && /delta/.test(JSON.stringify(p.targets))), 'delta bars');
    assert.ok(panels.some((p) => p.type === 'table' && /dateadd\('h', -1/.test(JSON.stringify(p.targets))), 'top symbols by 1h delta');
  });

  test('the dashboard aggregates only columns of the bar table', () => {
    const columns = new Set<string>(BAR_COLUMNS.map(([n]) => n));
    const used = extractQueries(loadDashboard()).flatMap((q) => [...q.sql.matchAll(/\b(?:first|last|sum|min|max|avg)\((\w+)\)/g)].map((m) => m[1] as string));
    assert.ok(used.includes('cvd_close') && used.includes('delta'), `aggregated columns found: ${used.join(', ')}`);
    assert.deepEqual(used.filter((c) => !columns.has(c)), []);
  });

  test('the dashboard provider points where compose mounts the dashboards', () => {
    const providers = (parse(readRepoFile('infra/docker/grafana/provisioning/dashboards/cvd.yaml')) as { providers: { options: { path: string } }[] }).providers;
    const mounts = loadCompose().services.grafana?.volumes ?? [];
    for (const p of providers) assert.ok(mounts.some((m) => m.split(':')[1] === p.options.path), `nothing mounted at ${p.options.path}`);
    assert.ok(mounts.includes('./infra/docker/grafana/dashboards:/etc/grafana/dashboards:ro'));
  });
});
