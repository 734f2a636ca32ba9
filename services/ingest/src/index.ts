export { planAdditions, chunk, splitInitialStreams } from './plan.js';
export { RatePacer, PacedQueue } from './pacer.js';
export { SymbolSequence } from './sequence.js';
export { parseIngestEnv, configFromEnv, ingestEnvShape } from './env.js';
export type { IngestConfig, IngestEnv, MarketSettings } from './env.js';
