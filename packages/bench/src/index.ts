export { runBench, renderReport, defaultOptions, targets, table, machine, PHASES, type Phase, type BenchOptions, type BenchReport } from './bench.js';
export { runThroughput, runStartup, symbolCounts, usage, meanRecordBytes, BURST_RATE_FACTOR } from './phases.js';
export { runLatency } from './latency-phase.js';
export { kafkaBaseline, parseProducerPerf, parseConsumerPerf } from './kafka-perf.js';
export { BenchRunner } from './runner.js';
export { parseProcStat, parseProcStatus, sampleProcess, loadAverage, clockTicks } from './proc.js';
export { parsePrometheus, sumMetric, histogramBuckets } from './prom.js';
export { percentiles, quantileSorted, histogramQuantile, sumBuckets, peakRate, rates } from './stats.js';
export { hotFunctions, summariseProfiles } from './profile.js';
