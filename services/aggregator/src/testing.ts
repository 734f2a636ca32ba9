/**
 * Test support (compiled, not a test file): synthetic trade sets, producing them to Kafka,
 * running the aggregator as a real child process, and reading the bar table back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { seededRandom, createLogger } from '@cvd/common';
import { applyBatch, createState, type BarRow } from '@cvd/engine';
import { BatchingProducer, createKafka, type Kafka } from '@cvd/kafka';
import type { AggTrade } from '@cvd/core';
import { encodeTrade, key } from '@cvd/schemas';
import { BAR_VALUE_COLUMNS, barAsTableRow } from '@cvd/questdb';

export const MINUTE = 60_000;

/**
 * `symbols` symbols over `minutes` minutes of trade time from `startMs` (a minute open), sorted
 * by trade time like a live stream. Every symbol trades in the last minute at :59.9 so each
 * minute can turn final once the partition goes quiet.
 */
export function syntheticTrades(opts: { seed: number; symbols: number; minutes: number; startMs: number; perMinute?: number }): AggTrade[] {
  const rnd = seededRandom(opts.seed);
  const out: AggTrade[] = [];
  const perMinute = opts.perMinute ?? 12;
  for (let s = 0; s < opts.symbols; s++) {
    const market = s % 3 === 0 ? 'spot' : 'usdm';
    const symbol = `SYM${s}USDT`;
    let aggId = 1000 + Math.floor(rnd() * 1e6);
    let tradeId = aggId * 3;
    let price = 10 + rnd() * 1000;
    for (let m = 0; m < opts.minutes; m++) {
      const n = 1 + Math.floor(rnd() * perMinute * 2);
      const times: number[] = [];
      for (let i = 0; i < n; i++) times.push(opts.startMs + m * MINUTE + Math.floor(rnd() * 59_000));
      if (m === opts.minutes - 1) times.push(opts.startMs + m * MINUTE + 59_900);
      times.sort((a, b) => a - b);
      for (const t of times) {
        price = Math.max(0.01, price * (1 + (rnd() - 0.5) * 0.002));
        const fills = 1 + Math.floor(rnd() * 3);
        out.push({
          market,
          symbol,
          aggId: aggId++,
          price: price.toFixed(2),
          qty: (rnd() * 5 + 0.00000001).toFixed(8),
          firstId: tradeId,
          lastId: tradeId + fills - 1,
          tradeTimeMs: t,
          eventTimeMs: t,
          buyerMaker: rnd() < 0.5,
          recovered: false,
          receivedAtMs: t,
        });
        tradeId += fills;
      }
    }
  }
  return out.sort((a, b) => a.tradeTimeMs - b.tradeTimeMs || a.aggId - b.aggId);
}

/** The bars the pipeline must produce: the pure engine over the whole set, everything final. */
export function expectedBars(trades: readonly AggTrade[], graceMs: number): BarRow[] {
  const state = createState({ graceMs, horizonMs: 60 * MINUTE });
  const latest = new Map<string, BarRow>();
  const max = Math.max(...trades.map((t) => t.tradeTimeMs));
  const r = applyBatch(state, trades.map((t) => ({ ...t })), max);
  for (const row of r.upserts) latest.set(`${row.ts}|${row.market}|${row.symbol}`, row);
  const fin = applyBatch(state, [], max + 10 * MINUTE);
  for (const row of fin.upserts) latest.set(`${row.ts}|${row.market}|${row.symbol}`, row);
  return [...latest.values()].sort((a, b) => a.market.localeCompare(b.market) || a.symbol.localeCompare(b.symbol) || a.ts - b.ts);
}

export async function produceTrades(kafka: Kafka, topic: string, trades: readonly AggTrade[], extra: { key: string; value: Buffer }[] = []): Promise<void> {
  const producer = new BatchingProducer(kafka, { logger: createLogger({ service: 'test', level: 'warn' }) });
  await producer.connect();
  producer.enqueue(topic, trades.map((t) => ({ key: key(t.market, t.symbol), value: encodeTrade(t) })));
  if (extra.length) producer.enqueue(topic, extra);
  await producer.close();
}

export function testKafka(brokers: string): Kafka {
  return createKafka({ brokers: [brokers], clientId: 'aggregator-test' }, createLogger({ service: 'test', level: 'error' }));
}

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Runs `node dist/main.js` with the given environment; output goes to the test's stderr on failure only. */
export class AggregatorProcess {
  readonly child: ChildProcess;
  private output = '';
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get log(): string {
    return this.output;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }
}

/** Bar columns compared between runs: all but `updated_at`. */
export const COMPARED = BAR_VALUE_COLUMNS;

/** An expected engine row in the table's shape (doubles as QuestDB returns them). */
export const asTableRow = barAsTableRow;
