/**
 * `@cvd/config`: the config service. Owns the symbol set (a watched YAML file, exchangeInfo
 * selectors and an admin API) and publishes it to the compacted `cvd.symbols.v1` topic.
 */
export { startConfigService } from './config-service.js';
export type { ConfigService, ConfigServiceOptions, ConfigServiceStatus, SymbolView } from './config-service.js';
export { configEnvSchema, configEnvShape, optionsFromEnv, parseConfigEnv } from './env.js';
export type { ConfigEnv } from './env.js';
export {
  DEFAULT_MAX_FILE_BYTES,
  MAX_SELECTOR_LIMIT,
  SELECTOR_FILTERS,
  formatIssue,
  loadSymbolFile,
  parseSymbolFile,
} from './symbol-file.js';
export type { FileIssue, FileLoadResult, FileParseResult, Selector, SelectorFilter, SymbolFile } from './symbol-file.js';
export { applySelector } from './selectors.js';
export type { SelectorResult } from './selectors.js';
export { apiStateFromTopic, computeDesired, diffSymbols } from './desired.js';
export type { ApiState, DesiredEntry, DesiredInput, MarketLists, OutRecord, SymbolSource } from './desired.js';
export { marketProblem, symbolProblem } from './symbol-rules.js';
export { bearerToken, tokensEqual } from './token.js';
export { MAX_BODY_BYTES, MAX_POST_ITEMS } from './admin-api.js';
