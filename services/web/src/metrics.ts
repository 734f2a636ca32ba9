import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WebMetrics {
  readonly requests: Counter<'route' | 'status'>;
  readonly queryDuration: Histogram<'query'>;
  /** `/api/stream` clients connected now. */
  readonly streamClients: Gauge;
  /** `event: bar` events written to stream clients (after coalescing). */
  readonly streamPushed: Counter;
  /** Stream clients dropped (`slow`: too many bars waiting) or refused (`full`: max clients). */
  readonly streamDropped: Counter<'reason'>;
  /** `event: resync` broadcasts (the bar consumer rejoined or restarted). */
  readonly streamResyncs: Counter;
  /** Bar records consumed from `cvd.bars.v1` and decoded. */
  readonly barRecords: Counter;
  /** Bar records that did not decode, by reason. */
  readonly barDecodeFailures: Counter<'reason'>;
}

export function webMetrics(registry: Registry): WebMetrics {
  return {
    requests: new Counter({
      name: 'cvd_web_http_requests_total',
      help: 'HTTP requests by route and status code',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    queryDuration: new Histogram({
      name: 'cvd_web_questdb_query_seconds',
      help: 'QuestDB /exec round trips of the API',
      labelNames: ['query'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    streamClients: new Gauge({
      name: 'cvd_web_stream_clients',
      help: 'Server-sent-event clients of /api/stream connected now',
      registers: [registry],
    }),
    streamPushed: new Counter({
      name: 'cvd_web_stream_pushed_total',
      help: 'Bar events written to /api/stream clients (after per-client coalescing)',
      registers: [registry],
    }),
    streamDropped: new Counter({
      name: 'cvd_web_stream_dropped_total',
      help: '/api/stream clients dropped (slow: too many bars waiting) or refused (full: too many clients)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    streamResyncs: new Counter({
      name: 'cvd_web_stream_resyncs_total',
      help: 'resync events sent to every /api/stream client (the bar consumer rejoined or restarted)',
      registers: [registry],
    }),
    barRecords: new Counter({
      name: 'cvd_web_bar_records_total',
      help: 'Bar records consumed from the bar stream topic and decoded',
      registers: [registry],
    }),
    barDecodeFailures: new Counter({
      name: 'cvd_web_bar_decode_failures_total',
      help: 'Bar records of the bar stream topic that did not decode, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
