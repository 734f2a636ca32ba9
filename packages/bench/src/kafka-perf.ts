/** Kafka's own perf tools (kafka-tools jar) as the baseline for our throughput. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createLogger } from '@cvd/common';
import { createKafka, ensureTopics } from '@cvd/kafka';
import { defaultCacheDir, findRepoRoot, pickRuntimes, readVersions } from '@cvd/stack';
import { uniqueTopic } from '@cvd/test-kit';

export interface ProducerPerf {
  records: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  avgLatencyMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

/** Parses ProducerPerformance's final summary line. */
export function parseProducerPerf(out: string): ProducerPerf {
  const re = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/g;
  let last: RegExpExecArray | undefined;
  for (let m = re.exec(out); m; m = re.exec(out)) last = m;
  if (!last) throw new Error(`no ProducerPerformance summary in output:\n${out.slice(-1500)}`);
  const n = (i: number): number => Number(last![i]);
  return { records: n(1), recordsPerSecond: n(2), mbPerSecond: n(3), avgLatencyMs: n(4), p50Ms: n(6), p99Ms: n(8), p999Ms: n(9) };
}

export interface ConsumerPerf {
  records: number;
  /** Including the group join/rebalance. */
  recordsPerSecond: number;
  /** Fetch time only. */
  fetchRecordsPerSecond: number;
  mbPerSecond: number;
}

/** Parses ConsumerPerformance's CSV (header line + one value line). */
export function parseConsumerPerf(out: string): ConsumerPerf {
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
  const h = lines.findIndex((l) => l.startsWith('start.time'));
  if (h < 0 || !lines[h + 1]) throw new Error(`no ConsumerPerformance result in output:\n${out.slice(-1500)}`);
  const cols = lines[h]!.split(',').map((s) => s.trim());
  const vals = lines[h + 1]!.split(',').map((s) => s.trim());
  const get = (name: string): number => Number(vals[cols.indexOf(name)]);
  return {
    records: get('data.consumed.in.nMsg'),
    recordsPerSecond: get('nMsg.sec'),
    fetchRecordsPerSecond: get('fetch.nMsg.sec'),
    mbPerSecond: get('MB.sec'),
  };
}

function run(java: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${args.slice(2, 3).join(' ')} exited with ${code}:\n${out.slice(-2000)}`));
    });
  });
}

export interface KafkaBaseline {
  topic: string;
  partitions: number;
  records: number;
  recordBytes: number;
  producer: ProducerPerf;
  consumer: ConsumerPerf;
  command: { producer: string; consumer: string };
}

/** ProducerPerformance then ConsumerPerformance on a fresh topic with our record size and count. */
export async function kafkaBaseline(o: { brokers: string; records: number; recordBytes: number; partitions: number; timeoutMs?: number }): Promise<KafkaBaseline> {
  const repo = findRepoRoot();
  const versions = readVersions(repo);
  const java = pickRuntimes({ versions, env: process.env }).kafka.path;
  const cp = join(defaultCacheDir(repo), `kafka-${versions.kafka.version}`, 'lib', '*');
  const topic = uniqueTopic('bench.perf');
  const kafka = createKafka({ brokers: o.brokers.split(','), clientId: 'cvd-bench' }, createLogger({ service: 'bench', level: 'warn' }));
  await ensureTopics(kafka, [{ topic, partitions: o.partitions }]);
  const timeout = o.timeoutMs ?? 300_000;
  const pArgs = ['-cp', cp, 'org.apache.kafka.tools.ProducerPerformance', '--topic', topic, '--num-records', String(o.records), '--record-size', String(o.recordBytes), '--throughput', '-1', '--producer-props', `bootstrap.servers=${o.brokers}`, 'acks=all'];
  const producer = parseProducerPerf(await run(java, pArgs, timeout));
  const cArgs = ['-cp', cp, 'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', o.brokers, '--topic', topic, '--messages', String(o.records), '--timeout', '60000'];
  const consumer = parseConsumerPerf(await run(java, cArgs, timeout));
  try {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  } catch {
    /* best effort */
  }
  const show = (a: string[]): string => `java ${a.map((x) => (x.includes('*') ? `'${x}'` : x)).join(' ')}`;
  return { topic, partitions: o.partitions, records: o.records, recordBytes: o.recordBytes, producer, consumer, command: { producer: show(pArgs), consumer: show(cArgs) } };
}
