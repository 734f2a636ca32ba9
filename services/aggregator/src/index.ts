export { startAggregator, type RunningAggregator, type StartAggregatorOptions } from './service.js';
export { Aggregator, type AggregatorCoreOptions } from './aggregator.js';
export { AggregatorEnv, parseAggregatorEnv } from './env.js';
export { PartitionWorker } from './partition-worker.js';
export { SnapshotStore, SNAPSHOT_FORMAT } from './snapshots.js';
export { decodeRecord } from './decode.js';
