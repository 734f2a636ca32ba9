import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProcStat, parseProcStatus, sampleProcess } from './proc.js';
import { histogramBuckets, parsePrometheus, sumMetric } from './prom.js';
import { parseConsumerPerf, parseProducerPerf } from './kafka-perf.js';

test('/proc/<pid>/stat: utime and stime counted from the last parenthesis', () => {
  const line = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194304 1234 0 0 0 777 123 0 0 20 0 11 0 5000 1000000 20000 18446744073709551615';
  assert.deepEqual(parseProcStat(line), { utimeTicks: 777, stimeTicks: 123 });
  assert.throws(() => parseProcStat('garbage'));
});

test('/proc/<pid>/status: VmRSS and VmHWM in bytes', () => {
  const text = 'Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t   150000 kB\nVmRSS:\t   120000 kB\nThreads:\t11\n';
  assert.deepEqual(parseProcStatus(text), { rssBytes: 120000 * 1024, hwmBytes: 150000 * 1024 });
  assert.throws(() => parseProcStatus('Name: x\n'));
});

test('sampling this very process', () => {
  const s = sampleProcess(process.pid);
  assert.ok(s && s.cpuSeconds > 0 && s.rssBytes > 0 && s.hwmBytes >= s.rssBytes);
  assert.equal(sampleProcess(2 ** 22 + 12345), undefined);
});

test('Prometheus text: counters summed over labels, histogram buckets', () => {
  const text = [
    '# HELP cvd_x x',
    'cvd_aggregator_trades_applied_total 1500',
    'cvd_ingest_published_total{market="spot",symbol="A\\"B",source="ws"} 10',
    'cvd_ingest_published_total{market="usdm",symbol="C",source="rest"} 5',
    'h_bucket{le="0.01"} 3',
    'h_bucket{le="+Inf"} 4',
    'h_sum 0.5',
  ].join('\n');
  const s = parsePrometheus(text);
  assert.equal(sumMetric(s, 'cvd_ingest_published_total'), 15);
  assert.equal(s.find((x) => x.labels.symbol === 'A"B')?.value, 10);
  assert.deepEqual(histogramBuckets(s, 'h'), [{ le: 0.01, count: 3 }, { le: Infinity, count: 4 }]);
});

test('Kafka perf-tool output', () => {
  const p = parseProducerPerf('123 records sent, 24.6 records/sec\n1000000 records sent, 250000.0 records/sec (13.35 MB/sec), 45.10 ms avg latency, 300.00 ms max latency, 40 ms 50th, 90 ms 95th, 120 ms 99th, 250 ms 99.9th.\n');
  assert.equal(p.recordsPerSecond, 250000);
  assert.equal(p.p999Ms, 250);
  const c = parseConsumerPerf('WARN x\nstart.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n2024-01-01 00:00:00:000, 2024-01-01 00:00:04:000, 53.4, 13.35, 1000000, 250000.0, 3000, 1000, 53.4, 1000000.0\n');
  assert.equal(c.recordsPerSecond, 250000);
  assert.equal(c.fetchRecordsPerSecond, 1000000);
});
