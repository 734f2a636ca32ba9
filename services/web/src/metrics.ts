import { Counter, Histogram, type Registry } from 'prom-client';

export interface WebMetrics {
  readonly requests: Counter<'route' | 'status'>;
  readonly queryDuration: Histogram<'query'>;
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
  };
}
