export { MARKETS, isMarket } from './market.js';
export type { Market } from './market.js';
export { MAX_SYMBOL_LENGTH, isSymbol, splitSymbolKey, symbolKey } from './symbol.js';
export type { MarketSymbol } from './symbol.js';
export {
  MAX_COUNT,
  MAX_DECIMAL_LENGTH,
  TRADE_PROBLEM_CODES,
  checkExchangeTrade,
  checkTrade,
  isCount,
  isDecimal,
  showValue,
} from './trade.js';
export type { AggTrade, ExchangeTrade, PipelineField, TradeProblem, TradeProblemCode } from './trade.js';
export { CvdError, ConfigError, CONFIG_ERROR_CODES, isRetriable, toError } from './errors.js';
export type { CvdErrorOptions, ConfigErrorCode } from './errors.js';
export { Backoff, retry, seededRandom, sleep } from './backoff.js';
export type { BackoffOptions, RetryOptions } from './backoff.js';
