/**
 * `@cvd/ingest`: Binance aggTrade websockets → `cvd.trades.v1`. `startIngest` runs the service
 * in-process (the CLI entry is `main.ts`); the pure parts are exported for reuse and tests.
 */
export { startIngest } from './ingest.js';
export type { IngestHandle, IngestStatus, StartIngestOptions } from './ingest.js';
export { configFromEnv, DEFAULT_CONNECTION_LIFETIME_MS, ingestEnvSchema, ingestEnvShape, parseIngestEnv } from './env.js';
export type { IngestConfig, IngestEnv, MarketSettings } from './env.js';
export { IngestMetrics } from './metrics.js';
export type { ConnectionStatus, MarketStatus } from './market-connections.js';
export type { RouterStats } from './router.js';
export type { ProducerState } from './sink.js';
export { chunk, planAdditions, splitInitialStreams } from './plan.js';
export type { AdditionPlan, SlotLoad } from './plan.js';
export { PacedQueue, RatePacer } from './pacer.js';
export type { PacerOptions, QueuedMessage } from './pacer.js';
export { SymbolSequence } from './sequence.js';
export type { HoleRange, Observation, SequenceOptions } from './sequence.js';
export { SymbolSet, symbolChange } from './symbols.js';
export type { SymbolChange } from './symbols.js';
