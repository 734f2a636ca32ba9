/**
 * A bench-specific pipeline runner: the simulator in this process, every service a separate
 * child process (`@cvd/e2e`'s ServiceProcess), unique topics/table/group per run, fixed ops
 * ports so metrics can be scraped, /proc sampling of every child, and start-up timing.
 * Unlike the e2e harness it lets the bench decide when aggregators start and when the feed runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { serviceScript, type ServiceScriptName as ServiceName } from '@cvd/e2e';
import { QuestDbSql, VIEW_TIMEFRAMES, viewName } from '@cvd/questdb';
import { MARKETS, type Market } from '@cvd/core';
import { startSimulator, type Simulator, type SimulatorOptions } from '@cvd/simulator';
import { freePort } from '@cvd/stack';
import { uniqueId, uniqueTable, uniqueTopic } from '@cvd/test-kit';
import { histogramBuckets, parsePrometheus, sumMetric, type PromSample } from './prom.js';
import { sampleProcess, type ProcSample } from './proc.js';
import type { Bucket } from './stats.js';

/** The cadence of forming bars in QuestDB the bench runs the aggregator with (the aggregator's default). */
export const FORMING_WRITE_INTERVAL_MS = 5000;

const EXCHANGE_INFO: Record<Market, string> = { spot: '/api/v3/exchangeInfo', usdm: '/fapi/v1/exchangeInfo', coinm: '/dapi/v1/exchangeInfo' };

export interface StackRef {
  brokers: string;
  questdbHttp: string;
  /** JVM pids when known (CPU/RSS of Kafka and QuestDB are reported too). */
  kafkaPid?: number;
  questdbPid?: number;
}

export interface RunnerOptions {
  stack: StackRef;
  sim: Omit<SimulatorOptions, 'start'>;
  partitions: number;
  graceMs: number;
  /** Extra env per service (after the defaults below). */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** `NODE_OPTIONS=--cpu-prof` for the services, profiles written into this directory on exit. */
  cpuProfDir?: string;
}

export interface Started {
  label: string;
  spawnedAtMs: number;
  /** Logged `started` (runService: start() resolved). */
  startedAtMs?: number;
}

export class BenchRunner {
  readonly procs = new Map<string, ServiceProcess>();
  readonly starts = new Map<string, Started>();
  readonly opsPorts = new Map<string, number>();
  readonly names = {
    trades: uniqueTopic('bench.trades'),
    symbols: uniqueTopic('bench.symbols'),
    deadLetter: uniqueTopic('bench.dlq'),
    state: uniqueTopic('bench.state'),
    bars: uniqueTopic('bench.bars'),
    table: uniqueTable('bench_bars'),
    group: uniqueId('bench-agg'),
  };
  readonly sql: QuestDbSql;
  readonly dir = mkdtempSync(join(tmpdir(), 'cvd-bench-'));
  readonly symbolsFile = join(this.dir, 'symbols.yaml');
  readonly token = randomBytes(16).toString('hex');
  adminPort = 0;
  /** The web service's port (`startService('web')`): charts, `/api/bars`, `/api/stream`. */
  webPort = 0;
  servedSymbols: { market: Market; symbol: string }[] = [];
  private aggregatorCount = 0;

  private constructor(readonly o: RunnerOptions, readonly sim: Simulator) {
    this.sql = new QuestDbSql({ httpUrl: o.stack.questdbHttp });
  }

  /** Starts the simulator (feed held until `startFeed`) and writes the symbol file. */
  static async create(o: RunnerOptions): Promise<BenchRunner> {
    const sim = await startSimulator({ ...o.sim, start: 'manual' });
    const r = new BenchRunner(o, sim);
    for (const m of MARKETS) {
      const body = (await (await fetch(`${sim.restUrl(m)}${EXCHANGE_INFO[m]}`)).json()) as { symbols?: { symbol: string }[] };
      for (const s of body.symbols ?? []) r.servedSymbols.push({ market: m, symbol: s.symbol });
    }
    const lines: string[] = [];
    for (const m of MARKETS) {
      const list = r.servedSymbols.filter((s) => s.market === m);
      if (list.length) lines.push(`${m}:`, ...list.map((s) => `  - ${JSON.stringify(s.symbol)}`));
    }
    writeFileSync(r.symbolsFile, `${lines.join('\n')}\n`);
    r.adminPort = await freePort();
    r.webPort = await freePort();
    return r;
  }

  private envFor(name: ServiceName, index: number): Record<string, string> {
    const binance: Record<string, string> = {};
    for (const m of MARKETS) {
      binance[`BINANCE_${m.toUpperCase()}_WS_URL`] = this.sim.wsUrl(m);
      binance[`BINANCE_${m.toUpperCase()}_REST_URL`] = this.sim.restUrl(m);
    }
    const base: Record<string, string> = {
      KAFKA_BROKERS: this.o.stack.brokers,
      TOPIC_TRADES: this.names.trades,
      TOPIC_SYMBOLS: this.names.symbols,
      TOPIC_DEADLETTER: this.names.deadLetter,
      TOPIC_AGGREGATOR_STATE: this.names.state,
      TOPIC_BARS: this.names.bars,
      TRADES_PARTITIONS: String(this.o.partitions),
      LOG_LEVEL: 'info',
    };
    const specific: Record<ServiceName, Record<string, string>> = {
      config: { ...binance, CONFIG_FILE: this.symbolsFile, CONFIG_ADMIN_PORT: String(this.adminPort), CONFIG_ADMIN_TOKEN: this.token },
      ingest: { ...binance },
      aggregator: {
        QUESTDB_HTTP_URL: this.o.stack.questdbHttp,
        AGGREGATOR_GROUP_ID: this.names.group,
        AGGREGATOR_BAR_TABLE: this.names.table,
        AGGREGATOR_GRACE: `${this.o.graceMs}ms`,
        AGGREGATOR_LATENCY_METRICS: 'true',
        AGGREGATOR_INSTANCE_ID: `bench-${index}`,
        AGGREGATOR_FORMING_WRITE_INTERVAL: `${FORMING_WRITE_INTERVAL_MS}ms`,
      },
      web: { QUESTDB_HTTP_URL: this.o.stack.questdbHttp, WEB_BAR_TABLE: this.names.table, WEB_HOST: '127.0.0.1', WEB_PORT: String(this.webPort) },
    };
    const env = { ...base, ...specific[name], ...(this.o.env?.[name] ?? {}) };
    return env;
  }

  async startService(name: ServiceName, index = 0): Promise<ServiceProcess> {
    const label = name === 'aggregator' ? `aggregator-${index}` : name;
    const port = await freePort();
    this.opsPorts.set(label, port);
    const env = { ...this.envFor(name, index), OPS_PORT: String(port) };
    const info: Started = { label, spawnedAtMs: Date.now() };
    // --cpu-prof is not allowed in NODE_OPTIONS: pass it on the command line.
    const nodeArgs = this.o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${this.o.cpuProfDir}`, `--cpu-prof-name=${label}.cpuprofile`] : [];
    const proc = new ServiceProcess(label, name, env, nodeArgs);
    const onData = (b: Buffer): void => {
      if (info.startedAtMs === undefined && b.toString().includes('"msg":"started"')) info.startedAtMs = Date.now();
    };
    proc.child.stdout?.on('data', onData);
    this.procs.set(label, proc);
    this.starts.set(label, info);
    if (name === 'aggregator') this.aggregatorCount = Math.max(this.aggregatorCount, index + 1);
    return proc;
  }

  async startAggregators(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await this.startService('aggregator', i);
  }

  get webUrl(): string {
    return `http://127.0.0.1:${this.webPort}`;
  }

  get aggregatorLabels(): string[] {
    return [...this.procs.keys()].filter((l) => l.startsWith('aggregator-'));
  }

  /** Until every started service logged `started` (bounded). */
  async waitStarted(labels: string[], timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = labels.filter((l) => this.starts.get(l)?.startedAtMs === undefined);
      if (missing.length === 0) return;
      for (const l of missing) {
        const p = this.procs.get(l);
        if (p && !p.running) throw new Error(`${l} exited during start-up:\n${p.log.slice(-4000)}`);
      }
      if (Date.now() > deadline) throw new Error(`not started within ${timeoutMs} ms: ${missing.join(', ')}\n${this.logs(missing)}`);
      await sleep(20);
    }
  }

  /** Until ingest's connections hold every served stream (bounded). */
  async waitSubscribed(timeoutMs = 120_000): Promise<void> {
    const byMarket = new Map<Market, string[]>();
    for (const s of this.servedSymbols) byMarket.set(s.market, [...(byMarket.get(s.market) ?? []), `${s.symbol.toLowerCase()}@aggTrade`]);
    try {
      for (const [m, streams] of byMarket) await this.sim.waitForSubscribers(m, streams, timeoutMs);
    } catch (err) {
      throw new Error(`ingest did not subscribe every stream: ${(err as Error).message}\n${this.logs(['ingest', 'config'])}`);
    }
  }

  /** Until the aggregators together own every partition (bounded). */
  async waitAssigned(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let n = 0;
      for (const l of this.aggregatorLabels) n += sumMetric(await this.metrics(l), 'cvd_aggregator_assigned_partitions');
      if (n >= this.o.partitions) return;
      if (Date.now() > deadline) throw new Error(`aggregators own ${n}/${this.o.partitions} partitions after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  async metrics(label: string): Promise<PromSample[]> {
    const port = this.opsPorts.get(label);
    if (port === undefined) return [];
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
      return parsePrometheus(await res.text());
    } catch {
      return [];
    }
  }

  /** Sum of a metric over the aggregator replicas. */
  async aggregatorSum(name: string): Promise<number> {
    let n = 0;
    for (const l of this.aggregatorLabels) n += sumMetric(await this.metrics(l), name);
    return n;
  }

  async aggregatorHistogram(name: string): Promise<Bucket[]> {
    const all: PromSample[] = [];
    for (const l of this.aggregatorLabels) all.push(...(await this.metrics(l)));
    return histogramBuckets(all, name);
  }

  /** /proc samples of every live child (and the JVMs when their pids are known). */
  sample(): Map<string, ProcSample> {
    const out = new Map<string, ProcSample>();
    for (const [label, p] of this.procs) {
      const pid = p.child.pid;
      const s = pid === undefined ? undefined : sampleProcess(pid);
      if (s) out.set(label, s);
    }
    for (const [label, pid] of [['kafka', this.o.stack.kafkaPid], ['questdb', this.o.stack.questdbPid]] as const) {
      const s = pid === undefined ? undefined : sampleProcess(pid);
      if (s) out.set(label, s);
    }
    const usage = process.cpuUsage();
    const mem = sampleProcess(process.pid);
    out.set('bench+simulator', { pid: process.pid, atMs: Date.now(), cpuSeconds: (usage.user + usage.system) / 1e6, rssBytes: mem?.rssBytes ?? 0, hwmBytes: mem?.hwmBytes ?? 0 });
    return out;
  }

  startFeed(): void {
    this.sim.start();
  }

  logs(labels?: string[]): string {
    return [...this.procs.entries()]
      .filter(([l]) => !labels || labels.includes(l))
      .map(([l, p]) => `----- ${l} -----\n${p.log.slice(-4000)}`)
      .join('\n');
  }

  /** SIGTERM (graceful: CPU profiles are written) then SIGKILL; drops the table; stops the simulator. */
  async stop(options: { dropTable?: boolean } = {}): Promise<void> {
    const order = ['ingest', 'config', 'web', ...this.aggregatorLabels];
    await Promise.all(order.map((l) => this.procs.get(l)?.kill('SIGTERM')).map((p) => withTimeout(p, 50_000)));
    await Promise.all([...this.procs.values()].map((p) => p.kill('SIGKILL')));
    await this.sim.stop();
    if (options.dropTable ?? true) {
      // The aggregator also created materialized views over the table; drop them first.
      for (const tf of VIEW_TIMEFRAMES) await this.sql.exec(`DROP MATERIALIZED VIEW IF EXISTS ${viewName(tf, this.names.table)}`).catch(() => undefined);
      await this.sql.exec(`DROP TABLE IF EXISTS ${this.names.table}`).catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One service as a child process (like @cvd/e2e's, plus node flags); keeps the tail of its output. */
export class ServiceProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private output = '';

  constructor(readonly label: string, name: ServiceName, env: Record<string, string>, nodeArgs: string[] = []) {
    this.child = spawn(process.execPath, [...nodeArgs, serviceScript(name)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => {
      this.output = (this.output + b.toString()).slice(-30_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function withTimeout<T>(p: Promise<T> | undefined, ms: number): Promise<T | undefined> {
  if (!p) return undefined;
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (t = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(t);
  }
}
