import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuestDbSql } from '@cvd/questdb';
import { MARKETS, type Market } from '@cvd/core';
import { startSimulator, type Simulator, type SimulatorOptions } from '@cvd/simulator';
import { freePort } from '@cvd/stack';
import { eventually, uniqueId, uniqueTable, uniqueTopic, type TestStackEndpoints } from '@cvd/test-kit';
import { asTableRow, COMPARED, expectedFromSimulator } from './expected.js';
import { ServiceProcess, type ServiceName } from './process.js';

const EXCHANGE_INFO: Record<Market, string> = { spot: '/api/v3/exchangeInfo', usdm: '/fapi/v1/exchangeInfo', coinm: '/dapi/v1/exchangeInfo' };

export interface PipelineOptions {
  stack: TestStackEndpoints;
  /** Simulator options; the feed is started by the harness once ingest subscribed everything. */
  sim: Omit<SimulatorOptions, 'start'>;
  /** Symbols left out of the initial symbol file (added later through the admin API). */
  holdBack?: { market: Market; symbol: string }[];
  partitions?: number;
  aggregators?: number;
  graceMs?: number;
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Ops (health/metrics) ports are chosen free and kept across restarts. */
  fixedOpsPorts?: boolean;
}

/**
 * The whole pipeline on one machine, every service a separate process, fed by the simulator,
 * writing to unique topics and a unique table of the shared test Kafka and QuestDB.
 */
export class Pipeline {
  readonly procs = new Map<string, ServiceProcess>();
  readonly names = {
    trades: uniqueTopic('e2e.trades'),
    symbols: uniqueTopic('e2e.symbols'),
    deadLetter: uniqueTopic('e2e.dlq'),
    state: uniqueTopic('e2e.state'),
    table: uniqueTable('e2e_bars'),
    group: uniqueId('e2e-agg'),
  };
  readonly token = randomBytes(16).toString('hex');
  readonly sql: QuestDbSql;
  readonly dir = mkdtempSync(join(tmpdir(), 'cvd-e2e-'));
  readonly symbolsFile = join(this.dir, 'symbols.yaml');
  adminPort = 0;
  /** Ops port per process label (when `fixedOpsPorts`). */
  readonly opsPorts = new Map<string, number>();
  servedSymbols: { market: Market; symbol: string }[] = [];
  private constructor(readonly o: PipelineOptions, readonly sim: Simulator) {
    this.sql = new QuestDbSql({ httpUrl: o.stack.questdbHttp });
  }

  get graceMs(): number {
    return this.o.graceMs ?? 1000;
  }

  static async start(o: PipelineOptions): Promise<Pipeline> {
    const sim = await startSimulator({ ...o.sim, start: 'manual' });
    const p = new Pipeline(o, sim);
    try {
      await p.boot();
    } catch (err) {
      await p.stop();
      throw err;
    }
    return p;
  }

  private async boot(): Promise<void> {
    for (const m of MARKETS) {
      const body = (await (await fetch(`${this.sim.restUrl(m)}${EXCHANGE_INFO[m]}`)).json()) as { symbols?: { symbol: string }[] };
      for (const s of body.symbols ?? []) this.servedSymbols.push({ market: m, symbol: s.symbol });
    }
    const held = new Set((this.o.holdBack ?? []).map((s) => `${s.market}:${s.symbol}`));
    this.writeSymbolFile(this.servedSymbols.filter((s) => !held.has(`${s.market}:${s.symbol}`)));
    this.adminPort = await freePort();
    if (this.o.fixedOpsPorts) {
      for (const label of ['config', 'ingest', ...Array.from({ length: this.o.aggregators ?? 1 }, (_, i) => `aggregator-${i}`)]) {
        this.opsPorts.set(label, await freePort());
      }
    }
    this.startService('config');
    for (let i = 0; i < (this.o.aggregators ?? 1); i++) this.startService('aggregator', i);
    this.startService('ingest');
    // Start the feed once every configured stream is subscribed, so every trade is seen.
    const byMarket = new Map<Market, string[]>();
    for (const s of this.servedSymbols) {
      if (held.has(`${s.market}:${s.symbol}`)) continue;
      byMarket.set(s.market, [...(byMarket.get(s.market) ?? []), `${s.symbol.toLowerCase()}@aggTrade`]);
    }
    try {
      for (const [m, streams] of byMarket) await this.sim.waitForSubscribers(m, streams, 60_000);
    } catch (err) {
      throw new Error(`ingest did not subscribe every stream: ${(err as Error).message}\n${this.logs()}`);
    }
    this.sim.start();
  }

  writeSymbolFile(symbols: { market: Market; symbol: string }[], extra = ''): void {
    const lines: string[] = [];
    for (const m of MARKETS) {
      const list = symbols.filter((s) => s.market === m);
      if (list.length) lines.push(`${m}:`, ...list.map((s) => `  - ${JSON.stringify(s.symbol)}`));
    }
    writeFileSync(this.symbolsFile, `${lines.join('\n')}\n${extra}`);
  }

  private baseEnv(): Record<string, string> {
    const { stack } = this.o;
    return {
      KAFKA_BROKERS: stack.brokers,
      TOPIC_TRADES: this.names.trades,
      TOPIC_SYMBOLS: this.names.symbols,
      TOPIC_DEADLETTER: this.names.deadLetter,
      TOPIC_AGGREGATOR_STATE: this.names.state,
      TRADES_PARTITIONS: String(this.o.partitions ?? 6),
      OPS_PORT: '0',
      LOG_LEVEL: 'info',
    };
  }

  envFor(name: ServiceName, index = 0): Record<string, string> {
    const binance: Record<string, string> = {};
    for (const m of MARKETS) {
      binance[`BINANCE_${m.toUpperCase()}_WS_URL`] = this.sim.wsUrl(m);
      binance[`BINANCE_${m.toUpperCase()}_REST_URL`] = this.sim.restUrl(m);
    }
    const specific: Record<ServiceName, Record<string, string>> = {
      config: { ...binance, CONFIG_FILE: this.symbolsFile, CONFIG_ADMIN_PORT: String(this.adminPort), CONFIG_ADMIN_TOKEN: this.token, CONFIG_WATCH_DEBOUNCE: '100ms' },
      ingest: { ...binance, INGEST_BACKFILL_DELAY: '500ms' },
      aggregator: {
        QUESTDB_HTTP_URL: this.o.stack.questdbHttp,
        AGGREGATOR_GROUP_ID: this.names.group,
        AGGREGATOR_BAR_TABLE: this.names.table,
        AGGREGATOR_GRACE: `${this.graceMs}ms`,
        // Bars near an open hole wait at most this (watermark time) for it to be filled.
        AGGREGATOR_HOLE_HOLD: '10s',
        AGGREGATOR_REVISION_HORIZON: '24h',
        AGGREGATOR_IDLE_AFTER: '500ms',
        AGGREGATOR_FLUSH_INTERVAL: '250ms',
        AGGREGATOR_SNAPSHOT_INTERVAL: '1s',
        AGGREGATOR_SESSION_TIMEOUT: '6s',
        AGGREGATOR_INSTANCE_ID: `e2e-${index}`,
      },
    };
    return { ...this.baseEnv(), ...specific[name], ...(this.o.env?.[name] ?? {}) };
  }

  startService(name: ServiceName, index = 0): ServiceProcess {
    const label = name === 'aggregator' ? `aggregator-${index}` : name;
    const env = this.envFor(name, index);
    const ops = this.opsPorts.get(label);
    if (ops !== undefined) env.OPS_PORT = String(ops);
    const proc = new ServiceProcess(label, name, env);
    this.procs.set(label, proc);
    return proc;
  }

  proc(label: string): ServiceProcess {
    const p = this.procs.get(label);
    if (!p) throw new Error(`no process ${label}`);
    return p;
  }

  logs(labels?: string[]): string {
    return [...this.procs.entries()]
      .filter(([l]) => !labels || labels.includes(l))
      .map(([l, p]) => `----- ${l} -----\n${p.log.slice(-6000)}`)
      .join('\n');
  }

  adminUrl(path = '/symbols'): string {
    return `http://127.0.0.1:${this.adminPort}${path}`;
  }

  async admin(method: string, path: string, body?: unknown, token = this.token): Promise<{ status: number; body: unknown }> {
    const res = await fetch(this.adminUrl(path), {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* keep text */
    }
    return { status: res.status, body: parsed };
  }

  /** Prometheus text of a process's `/metrics` (needs `fixedOpsPorts`). */
  async metrics(label: string): Promise<string> {
    const port = this.opsPorts.get(label);
    if (port === undefined) throw new Error(`no fixed ops port for ${label}`);
    return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  }

  async rows(where = '1 = 1'): Promise<Record<string, unknown>[]> {
    try {
      return await this.sql.rows(`SELECT ${COMPARED.join(', ')} FROM ${this.names.table} WHERE ${where} ORDER BY market, symbol, ts`);
    } catch {
      return [];
    }
  }

  /** The expected table for everything published so far (`exclude` drops symbols from it). */
  expected(exclude?: (market: string, symbol: string) => boolean): Record<string, unknown>[] {
    return expectedFromSimulator(this.sim, this.graceMs, exclude).map(asTableRow);
  }

  /**
   * Waits until the simulator has published everything and the table equals the expectation
   * (every column of every bar, all final); returns the last table read for the assertion.
   */
  async settle(options: { timeoutMs?: number; exclude?: (market: string, symbol: string) => boolean; beforeMs?: number } = {}): Promise<{ actual: Record<string, unknown>[]; expected: Record<string, unknown>[] }> {
    await this.sim.done();
    const cutoff = options.beforeMs === undefined ? undefined : new Date(options.beforeMs).toISOString();
    const where = cutoff === undefined ? undefined : `ts < '${cutoff}'`;
    const expected = this.expected(options.exclude).filter((r) => cutoff === undefined || String(r.ts) < cutoff.replace('Z', '000Z'));
    let actual: Record<string, unknown>[] = [];
    try {
      await eventually(async () => {
        actual = await this.rows(where);
        return actual.length === expected.length && JSON.stringify(actual) === JSON.stringify(expected);
      }, options.timeoutMs ?? 120_000, 1000);
    } catch {
      // Fall through: the caller's deepEqual shows the difference; logs help to see why.
      process.stderr.write(`pipeline did not settle: ${actual.length} rows vs ${expected.length} expected\n${this.logs()}\n`);
    }
    return { actual, expected };
  }

  async stop(): Promise<void> {
    const order = ['ingest', 'config', ...[...this.procs.keys()].filter((l) => l.startsWith('aggregator'))];
    for (const label of order) await this.procs.get(label)?.kill('SIGTERM');
    await Promise.all([...this.procs.values()].map((p) => p.kill('SIGKILL')));
    await this.sim.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
