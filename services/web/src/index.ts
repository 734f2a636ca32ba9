export { createWebApp, startWeb, type RunningWeb, type WebApp, type WebOptions } from './web.js';
export { WebEnv, parseWebEnv } from './env.js';
export { WebError, WEB_ERROR_CODES, type WebErrorCode } from './errors.js';
export { parseBarsQuery, parseMarket, parseSymbol, parseTimeframe, parseLimit, parseSince, LIMIT, type BarsQuery } from './query.js';
export { barsSql, symbolsSql, sqlString, sqlTimestamp, BAR_API_COLUMNS } from './sql.js';
export { Api, isoMillis, type ApiBar, type BarsResponse, type SymbolEntry, type SqlExecutor } from './api.js';
export { BarHub, parseStreamQuery, matchesFilter, sseBar, MAX_STREAM_SYMBOLS, type StreamBar, type StreamFilter, type SseSink, type HubClient, type HubMetrics, type BarHubOptions } from './bar-hub.js';
export { BarStream, streamBarOf, privateGroupId, type BarStreamOptions, type BarStreamMetrics } from './bar-stream.js';
