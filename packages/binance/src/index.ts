/**
 * `@cvd/binance`: Binance market data. Pure frame parsers, stream names/URLs and the
 * market facts table, plus a small REST client (the only I/O, with fetch and clock injected).
 */
export { BINANCE_ERROR_CODES, BinanceError } from './errors.js';
export type { BinanceErrorCode, BinanceErrorOptions } from './errors.js';

export { MARKET_CONFIGS, marketConfig } from './market.js';
export type { MarketConfig, MarketOverrides, WeightPool } from './market.js';

export {
  DEFAULT_MAX_DECIMAL_LENGTH,
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_ERROR_CODES,
  MICROSECOND_TIME_THRESHOLD,
  isFrameError,
  parseRestAggTrade,
} from './frames/core.js';
export type {
  ControlFrame,
  FrameError,
  FrameErrorCode,
  FrameTrade,
  MarketDialect,
  ParseOptions,
  ParsedFrame,
  RequestId,
  RestRowOptions,
  TimeUnit,
  TradeFrame,
} from './frames/core.js';
export { DIALECTS, parseFrame } from './frames/parse-frame.js';
export { SPOT_DIALECT, parseSpotFrame } from './frames/spot.js';
export { USDM_DIALECT, parseUsdmFrame } from './frames/usdm.js';
export { COINM_DIALECT, parseCoinmFrame } from './frames/coinm.js';

export {
  combinedStreamUrl,
  listSubscriptionsMessage,
  rawStreamUrl,
  streamName,
  subscribeMessage,
  unsubscribeMessage,
} from './streams.js';
export type { StreamMethod, StreamRequest, StreamUrlOptions } from './streams.js';

export { RestClient } from './rest/rest-client.js';
export type { AggTradesRequest, FetchLike, RestClientOptions } from './rest/rest-client.js';
export { backfillAggTrades } from './rest/backfill.js';
export type {
  BackfillProgress,
  BackfillRequest,
  BackfillResult,
  FetchAggTradePage,
  MissingRange,
  MissingReason,
} from './rest/backfill.js';
export { parseExchangeInfo } from './rest/exchange-info.js';
export type { SymbolInfo } from './rest/exchange-info.js';
export { WeightLimiter } from './rest/weight-limiter.js';
export type { Clock, WeightLimiterOptions, WeightUsage } from './rest/weight-limiter.js';

export {
  AggTradesDumpParser,
  DUMP_COLUMNS,
  DUMP_ERROR_CODES,
  DumpError,
  dumpPathInfo,
  parseAggTradesDump,
  unzipFirstEntry,
  zipFirstEntry,
} from './dumps.js';
export type { DumpErrorCode, DumpParseOptions, DumpParseResult, ZipEntry } from './dumps.js';
