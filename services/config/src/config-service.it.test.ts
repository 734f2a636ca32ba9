import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLogger, type Logger } from '@cvd/common';
import { createKafka, readCompacted, type Kafka, type TopicNames } from '@cvd/kafka';
import { decodeSymbolConfig, type SymbolConfig } from '@cvd/schemas';
import { startSimulator } from '@cvd/simulator';
import { eventually, getTestStack, uniqueTopic } from '@cvd/test-kit';
import { startConfigService, type ConfigService, type ConfigServiceOptions } from './config-service.js';

const TOKEN = 'test-admin-token-0123456789abcdef';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let brokers: string;
let kafka: Kafka;
const logs = new Capture();
let logger: Logger;
const dirs: string[] = [];

before(async () => {
  brokers = (await getTestStack()).brokers;
  logger = createLogger({ service: 'config-test', level: 'info', destination: logs });
  kafka = createKafka({ brokers: [brokers], clientId: 'config-it' }, logger);
});
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  assert.doesNotMatch(logs.text, new RegExp(TOKEN), 'the admin token never appears in the logs');
});

function workspace(): { dir: string; file: string; topics: TopicNames; write: (text: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'cvd-config-it-'));
  dirs.push(dir);
  const file = join(dir, 'symbols.yaml');
  return {
    dir,
    file,
    topics: { trades: uniqueTopic('cfg-trades'), symbols: uniqueTopic('cfg-symbols'), deadLetter: uniqueTopic('cfg-dl'), aggregatorState: uniqueTopic('cfg-state'), bars: uniqueTopic('cfg-bars') },
    // Like an editor: write a temporary file, rename it over the old one.
    write: (text) => {
      const tmp = join(dir, `.symbols.yaml.${process.hrtime.bigint()}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, file);
    },
  };
}

function start(w: ReturnType<typeof workspace>, extra: Partial<ConfigServiceOptions> = {}): Promise<ConfigService> {
  return startConfigService({
    file: w.file,
    kafka: { brokers: [brokers], clientId: 'config-it' },
    topics: w.topics,
    tradesPartitions: 1,
    verifySymbols: false,
    selectorRefreshMs: 0,
    watchDebounceMs: 50,
    admin: { port: 0, token: TOKEN },
    ops: { port: 0 },
    logger,
    ...extra,
  });
}

/** Records ever written to the topic (no transactions: the high watermark counts them). */
async function recordCount(topic: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((n, o) => n + Number(o.high), 0);
    } catch (err) {
      // Right after creation a partition may briefly report NOT_LEADER_FOR_PARTITION.
      if (attempt >= 10 || (err as { retriable?: boolean }).retriable !== true) throw err;
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await admin.disconnect();
    }
  }
}

/** The topic's latest value per key: a summary string, `null` for tombstones. */
async function topicState(topic: string): Promise<Map<string, SymbolConfig | null>> {
  const out = new Map<string, SymbolConfig | null>();
  for (const [k, r] of await readCompacted(kafka, topic, 'config-it')) {
    if (r.value === null) out.set(k, null);
    else {
      const d = decodeSymbolConfig(r.value);
      assert.ok(d.ok, `record ${k} decodes`);
      out.set(k, d.value);
    }
  }
  return out;
}
const live = (m: Map<string, SymbolConfig | null>): string[] =>
  [...m].filter(([, c]) => c !== null).map(([k, c]) => `${k} ${c!.source}${c!.enabled ? '' : ' disabled'}`).sort();

async function http(
  service: ConfigService,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; raw?: string; contentType?: string } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const res = await fetch(`${service.adminUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined };
}

describe('config service with a real Kafka', () => {
  test('file → records; restart → nothing; edit → exact differences; invalid file → nothing changes', async () => {
    const w = workspace();
    w.write('spot: [BTCUSDT, ETHUSDT]\nusdm: [BTCUSDT, SOLUSDT]\ncoinm: [BTCUSD_PERP]\n');
    let service = await start(w);
    try {
      assert.equal(await recordCount(w.topics.symbols), 5);
      assert.deepEqual(live(await topicState(w.topics.symbols)), [
        'coinm:BTCUSD_PERP file',
        'spot:BTCUSDT file',
        'spot:ETHUSDT file',
        'usdm:BTCUSDT file',
        'usdm:SOLUSDT file',
      ]);
      assert.equal(service.health().healthy, true);
    } finally {
      await service.stop();
    }

    // Restart with the same file: nothing is republished.
    service = await start(w);
    try {
      assert.equal(await recordCount(w.topics.symbols), 5, 'a restart with an unchanged file publishes nothing');

      // Edit: add usdm:XRPUSDT, remove spot:ETHUSDT → one record and one tombstone.
      const loads = service.status().fileLoads;
      w.write('spot: [BTCUSDT]\nusdm: [BTCUSDT, SOLUSDT, XRPUSDT]\ncoinm: [BTCUSD_PERP]\n');
      await eventually(async () => service.status().fileLoads > loads && service.status().reconciles > 1, 10_000, 50);
      await eventually(async () => (await recordCount(w.topics.symbols)) === 7, 10_000, 100);
      const after = await topicState(w.topics.symbols);
      assert.equal(after.get('spot:ETHUSDT'), null, 'tombstone for the removed symbol');
      assert.equal(after.get('usdm:XRPUSDT')?.source, 'file');
      assert.equal(service.status().tombstonesPublished, 1);
      assert.equal(service.status().recordsPublished, 1);

      // Invalid file: nothing changes; health and metrics report it.
      const invalidBefore = service.status().invalidFileLoads;
      w.write('spot: [BTCUSDT, "BTC;USDT"]\nfutures: [X]\n');
      await eventually(async () => service.status().invalidFileLoads > invalidBefore, 10_000, 50);
      assert.equal(await recordCount(w.topics.symbols), 7, 'an invalid file publishes nothing');
      const health = await fetch(`${service.opsUrl}/health`);
      const report = (await health.json()) as any;
      assert.equal(report.checks.file.healthy, false);
      assert.equal(report.file.valid, false);
      assert.ok(report.file.errors.some((e: string) => /symbols\.yaml:1:\d+ spot\[1\]: symbol "BTC;USDT" contains the forbidden character ";"/.test(e)), report.file.errors.join('\n'));
      assert.ok(report.file.errors.some((e: string) => /futures: unknown key "futures"/.test(e)));
      const metrics = await (await fetch(`${service.opsUrl}/metrics`)).text();
      assert.match(metrics, /cvd_config_invalid_file_loads_total\{service="config"\} 1/);
      assert.match(metrics, /cvd_config_file_valid\{service="config"\} 0/);
      assert.match(metrics, /cvd_config_symbols_desired\{market="usdm",source="file",service="config"\} 3/);
      assert.equal(service.symbols().filter((s) => s.enabled).length, 5, 'the previous set stays in effect');

      // A deleted file is invalid too, not "no symbols".
      rmSync(w.file);
      await eventually(async () => service.status().fileErrors.some((e) => /file does not exist/.test(e)), 10_000, 50);
      assert.equal(await recordCount(w.topics.symbols), 7);

      // Fixed: the error clears and the difference is published.
      w.write('spot: [BTCUSDT]\nusdm: [BTCUSDT, SOLUSDT, XRPUSDT]\ncoinm: []\n');
      await eventually(async () => service.status().fileErrors.length === 0, 10_000, 50);
      await eventually(async () => (await recordCount(w.topics.symbols)) === 8, 10_000, 100);
      assert.equal(service.health().checks?.file?.healthy, true);
    } finally {
      await service.stop();
    }
  });

  test('an invalid file at start-up leaves the topic as it is', async () => {
    const w = workspace();
    w.write('usdm: [BTCUSDT, ETHUSDT]\n');
    const first = await start(w);
    await first.stop();
    w.write('usdm: [BTCUSDT, eth usdt]\n');
    const service = await start(w);
    try {
      assert.equal(await recordCount(w.topics.symbols), 2);
      assert.equal(service.health().checks?.file?.healthy, false);
      assert.deepEqual(service.symbols().map((s) => s.symbol).sort(), ['BTCUSDT', 'ETHUSDT']);
    } finally {
      await service.stop();
    }
  });

  test('admin API: list, add, remove, auth, limits; API changes survive a restart', async () => {
    const w = workspace();
    w.write('usdm: [BTCUSDT, ETHUSDT]\n');
    let service = await start(w);
    try {
      // Auth.
      assert.equal((await http(service, 'GET', '/symbols', { token: null })).status, 401);
      const wrong = await http(service, 'GET', '/symbols', { token: 'wrong-token-0123456789' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error, 'unauthorized');
      assert.equal((await http(service, 'POST', '/symbols', { token: `${TOKEN}x`, body: { market: 'usdm', symbol: 'X' } })).status, 401);

      // List.
      const list = await http(service, 'GET', '/symbols');
      assert.equal(list.status, 200);
      assert.equal(list.body.count, 2);
      assert.deepEqual(list.body.symbols[0], { market: 'usdm', symbol: 'BTCUSDT', enabled: true, source: 'file', sources: ['file'] });

      // Bad input.
      const bad = await http(service, 'POST', '/symbols', { body: { market: 'usdm', symbol: 'BTC"; rm -rf /' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error, 'invalid-request');
      assert.match(bad.body.message, /body: symbol .* contains (whitespace|the forbidden character)/);
      assert.equal((await http(service, 'POST', '/symbols', { raw: '{nope' })).status, 400);
      assert.equal((await http(service, 'POST', '/symbols', { body: { market: 'usdm', symbol: 'A' }, contentType: 'text/plain' })).status, 415);
      const big = await http(service, 'POST', '/symbols', { raw: JSON.stringify({ market: 'usdm', symbol: 'A', pad: 'x'.repeat(70_000) }) });
      assert.equal(big.status, 413);
      assert.equal(big.body.error, 'payload-too-large');
      assert.equal((await http(service, 'PUT', '/symbols')).status, 405);
      assert.equal((await http(service, 'GET', '/nothing')).status, 404);
      assert.equal((await http(service, 'DELETE', '/symbols/futures/BTCUSDT')).status, 400);
      assert.equal((await http(service, 'DELETE', '/symbols/usdm/NOTHERE')).status, 404);
      assert.equal(await recordCount(w.topics.symbols), 2, 'rejected requests publish nothing');

      // Add one and a list.
      const add = await http(service, 'POST', '/symbols', { body: { market: 'usdm', symbol: 'SOLUSDT' } });
      assert.equal(add.status, 200, JSON.stringify(add.body));
      assert.deepEqual(add.body.added, ['usdm:SOLUSDT']);
      const addList = await http(service, 'POST', '/symbols', { body: [{ market: 'spot', symbol: 'BTCUSDT' }, { market: 'usdm', symbol: 'SOLUSDT' }] });
      assert.deepEqual([addList.body.added, addList.body.unchanged], [['spot:BTCUSDT'], ['usdm:SOLUSDT']]);
      assert.equal(await recordCount(w.topics.symbols), 4);

      // Remove an API-added symbol (tombstone) and a file symbol (disabled record).
      const del1 = await http(service, 'DELETE', '/symbols/spot/BTCUSDT');
      assert.deepEqual([del1.status, del1.body.effect], [200, 'tombstone']);
      const del2 = await http(service, 'DELETE', '/symbols/usdm/ETHUSDT');
      assert.deepEqual([del2.status, del2.body.effect], [200, 'disabled']);
      assert.equal((await http(service, 'DELETE', '/symbols/usdm/ETHUSDT')).status, 404, 'already removed');
      assert.deepEqual(live(await topicState(w.topics.symbols)), ['usdm:BTCUSDT file', 'usdm:ETHUSDT api disabled', 'usdm:SOLUSDT api']);

      const metrics = await (await fetch(`${service.opsUrl}/metrics`)).text();
      assert.match(metrics, /cvd_config_admin_requests_total\{method="GET",route="\/symbols",status="401",service="config"\} 2/);
      assert.match(metrics, /cvd_config_admin_requests_total\{method="POST",route="\/symbols",status="413",service="config"\} 1/);
    } finally {
      await service.stop();
    }

    // Restart: the API state comes back from the topic; nothing is republished.
    const count = await recordCount(w.topics.symbols);
    service = await start(w);
    try {
      assert.equal(await recordCount(w.topics.symbols), count);
      const list = await http(service, 'GET', '/symbols');
      assert.deepEqual(
        list.body.symbols.map((s: { market: string; symbol: string; source: string; enabled: boolean }) => `${s.market}:${s.symbol} ${s.source} ${s.enabled}`),
        ['usdm:BTCUSDT file true', 'usdm:ETHUSDT api false', 'usdm:SOLUSDT api true'],
      );
      // The file drops SOLUSDT and ETHUSDT: the API add keeps SOLUSDT; ETHUSDT stays removed.
      w.write('usdm: [BTCUSDT]\n');
      await eventually(async () => service.status().fileLoads > 1, 10_000, 50);
      assert.equal(await recordCount(w.topics.symbols), count, 'API decisions outrank the file');
      // POST clears a removal.
      const re = await http(service, 'POST', '/symbols', { body: { market: 'usdm', symbol: 'ETHUSDT' } });
      assert.equal(re.status, 200);
      assert.deepEqual(live(await topicState(w.topics.symbols)), ['usdm:BTCUSDT file', 'usdm:ETHUSDT api', 'usdm:SOLUSDT api']);
    } finally {
      await service.stop();
    }
  });

  test('without a token, changes are refused with 503 and reads work', async () => {
    const w = workspace();
    w.write('spot: [BTCUSDT]\n');
    const service = await start(w, { admin: { port: 0 } });
    try {
      const r = await http(service, 'POST', '/symbols', { token: null, body: { market: 'usdm', symbol: 'X' } });
      assert.equal(r.status, 503);
      assert.match(r.body.message, /set CONFIG_ADMIN_TOKEN/);
      assert.equal((await http(service, 'DELETE', '/symbols/spot/BTCUSDT', { token: null })).status, 503);
      assert.equal((await http(service, 'GET', '/symbols', { token: null })).status, 200);
    } finally {
      await service.stop();
    }
  });

  test('selectors resolve against the simulator exchangeInfo, refresh, and verify file symbols', async () => {
    const sim = await startSimulator({
      start: 'manual',
      symbols: [
        { market: 'usdm', symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT' },
        { market: 'usdm', symbol: 'ETHUSDT', baseAsset: 'ETH', quoteAsset: 'USDT' },
        { market: 'usdm', symbol: 'USDCUSDT', baseAsset: 'USDC', quoteAsset: 'USDT' },
        { market: 'usdm', symbol: 'BTCUSDC', baseAsset: 'BTC', quoteAsset: 'USDC' },
        { market: 'usdm', symbol: 'OLDUSDT', baseAsset: 'OLD', quoteAsset: 'USDT', status: 'SETTLING' },
        { market: 'usdm', symbol: 'ETHUSDT_260327', baseAsset: 'ETH', quoteAsset: 'USDT', contractType: 'CURRENT_QUARTER' },
        { market: 'spot', symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT' },
      ],
    });
    const w = workspace();
    w.write(`spot: [BTCUSDT, NOSUCHUSDT]
selectors:
  - market: usdm
    status: TRADING
    quoteAsset: USDT
    contractType: PERPETUAL
    exclude: [USDCUSDT]
`);
    const service = await start(w, {
      verifySymbols: true,
      restUrls: { spot: sim.restUrl('spot'), usdm: sim.restUrl('usdm'), coinm: sim.restUrl('coinm') },
    });
    try {
      assert.deepEqual(live(await topicState(w.topics.symbols)), [
        'spot:BTCUSDT file',
        'spot:NOSUCHUSDT file',
        'usdm:BTCUSDT selector',
        'usdm:ETHUSDT selector',
      ]);
      const warnings = (service.health().file as { warnings: string[] }).warnings;
      assert.ok(warnings.some((x) => /spot symbol "NOSUCHUSDT" is not listed in spot exchangeInfo/.test(x)), warnings.join('\n'));
      // The API refuses a symbol exchangeInfo does not list.
      const r = await http(service, 'POST', '/symbols', { body: { market: 'usdm', symbol: 'NOSUCHUSDT' } });
      assert.deepEqual([r.status, r.body.error], [400, 'unknown-symbol']);

      // A limit and a file edit re-resolve.
      w.write('spot: [BTCUSDT]\nselectors:\n  - { market: usdm, quoteAsset: USDT, contractType: PERPETUAL, limit: 1 }\n');
      await eventually(async () => service.symbols().length === 2, 10_000, 50);
      assert.deepEqual(live(await topicState(w.topics.symbols)), ['spot:BTCUSDT file', 'usdm:BTCUSDT selector']);

      // exchangeInfo down: the selector keeps its last answer, nothing is removed.
      await sim.stop();
      const before = await recordCount(w.topics.symbols);
      await service.refreshSelectors();
      assert.equal(await recordCount(w.topics.symbols), before);
      assert.equal(service.health().checks?.selectors?.healthy, false);
    } finally {
      await service.stop();
      await sim.stop();
    }
  });
});
