/** The test helpers themselves: Compose interpolation, Dockerfile parsing, Grafana substitution. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { substituteGrafana } from './dashboard.js';
import { containerEnv, interpolate, parseDockerfile } from './repo.js';

test('interpolate follows Compose: defaults, required, bare, $$', () => {
  assert.equal(interpolate('${A:-x}/${B-y}/${C:-z}', { B: '', C: 'c' }), 'x//c');
  assert.equal(interpolate('$A-$$-${A}', { A: 'v' }), 'v-$-v');
  assert.equal(interpolate('${MISSING}', {}), '');
  assert.throws(() => interpolate('${T:?set it}', {}), /T is missing: set it/);
  assert.throws(() => interpolate('${T:?set it}', { T: '' }), /T is missing/);
  assert.equal(interpolate('${T?set it}', { T: '' }), '');
});

test('containerEnv: pass-through entries come from the host or are left out', () => {
  const service = { environment: { A: null, B: '${X:-1}', C: 'lit' } };
  assert.deepEqual(containerEnv(service), { B: '1', C: 'lit' });
  assert.deepEqual(containerEnv(service, { A: 'h', X: '2' }), { A: 'h', B: '2', C: 'lit' });
  assert.deepEqual(containerEnv({ environment: ['A', 'B=2'] }, { A: 'a' }), { A: 'a', B: '2' });
});

test('parseDockerfile: global ARGs, stages, continuations, comments', () => {
  const df = parseDockerfile('# c\nARG IMG=node:20.19-bookworm-slim\nFROM ${IMG} AS build\nRUN a \\\n  b\n# inner\nFROM ${IMG} AS runtime\nUSER node\nENTRYPOINT ["node"]\n');
  assert.deepEqual(df.globalArgs, { IMG: 'node:20.19-bookworm-slim' });
  assert.deepEqual(df.stages.map((s) => [s.from, s.name]), [['${IMG}', 'build'], ['${IMG}', 'runtime']]);
  assert.deepEqual(df.stages[0]?.instructions, [['RUN', 'a b']]);
  assert.deepEqual(df.stages[1]?.instructions, [['USER', 'node'], ['ENTRYPOINT', '["node"]']]);
});

test('substituteGrafana: macros, intervals, variable formats, table; nothing left over', () => {
  const ctx = { from: new Date('2024-05-01T12:00:00Z'), to: new Date('2024-05-01T13:00:00.500Z'), intervalMs: 300_000, vars: { market: 'usdm', symbol: ['BTCUSDT', "O'X"] }, table: 't_1' };
  assert.equal(
    substituteGrafana("SELECT * FROM cvd_bars_1m WHERE $__timeFilter(ts) AND market = '$market' AND symbol IN (${symbol:singlequote}) SAMPLE BY ${__interval_ms}T -- $__interval", ctx),
    "SELECT * FROM t_1 WHERE ts BETWEEN '2024-05-01T12:00:00Z' AND '2024-05-01T13:00:00.5Z' AND market = 'usdm' AND symbol IN ('BTCUSDT','O\\'X') SAMPLE BY 300000T -- 5m",
  );
  assert.equal(substituteGrafana('$__timeFrom() $__timeTo() ${symbol}', ctx), "'2024-05-01T12:00:00Z' '2024-05-01T13:00:00.5Z' BTCUSDT,O'X");
  assert.throws(() => substituteGrafana('$nope', ctx), /no value for Grafana variable \$nope/);
  assert.throws(() => substituteGrafana('${symbol:json}', ctx), /not handled/);
});
