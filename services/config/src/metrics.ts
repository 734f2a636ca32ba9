import { Counter, Gauge, type Registry } from 'prom-client';

export interface ConfigMetrics {
  readonly symbolsDesired: Gauge<'market' | 'source'>;
  readonly symbolsRemoved: Gauge<'market'>;
  readonly published: Counter;
  readonly tombstones: Counter;
  readonly fileLoads: Counter<'result'>;
  readonly invalidFileLoads: Counter;
  readonly fileValid: Gauge;
  readonly selectorFailures: Counter<'market'>;
  readonly adminRequests: Counter<'method' | 'route' | 'status'>;
  readonly kafkaSendErrors: Counter;
  readonly producerRefused: Counter<'topic' | 'reason'>;
}

/** The service's metrics, registered on `registry` (names prefixed `cvd_config_`). */
export function createConfigMetrics(registry: Registry): ConfigMetrics {
  const registers = [registry];
  return {
    symbolsDesired: new Gauge({
      name: 'cvd_config_symbols_desired',
      help: 'Symbols in the desired set, by market and the source written to the topic',
      labelNames: ['market', 'source'],
      registers,
    }),
    symbolsRemoved: new Gauge({
      name: 'cvd_config_symbols_removed',
      help: 'Symbols removed through the admin API while the file or a selector lists them (enabled=false records)',
      labelNames: ['market'],
      registers,
    }),
    published: new Counter({ name: 'cvd_config_records_published_total', help: 'SymbolConfig records published (new or changed)', registers }),
    tombstones: new Counter({ name: 'cvd_config_tombstones_published_total', help: 'Tombstones published (symbols removed)', registers }),
    fileLoads: new Counter({
      name: 'cvd_config_file_loads_total',
      help: 'Symbol file loads by result (valid, invalid, unchanged)',
      labelNames: ['result'],
      registers,
    }),
    invalidFileLoads: new Counter({
      name: 'cvd_config_invalid_file_loads_total',
      help: 'Symbol file loads rejected as invalid (the previous set stayed in effect)',
      registers,
    }),
    fileValid: new Gauge({ name: 'cvd_config_file_valid', help: '1 when the last symbol file load was valid, 0 otherwise', registers }),
    selectorFailures: new Counter({
      name: 'cvd_config_selector_failures_total',
      help: 'exchangeInfo requests that failed while resolving selectors',
      labelNames: ['market'],
      registers,
    }),
    adminRequests: new Counter({
      name: 'cvd_config_admin_requests_total',
      help: 'Admin API requests by method, route and HTTP status',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    kafkaSendErrors: new Counter({ name: 'cvd_config_kafka_send_errors_total', help: 'Failed Kafka sends (retried, until KAFKA_SEND_GIVE_UP)', registers }),
    producerRefused: new Counter({
      name: 'cvd_config_producer_refused_total',
      help: 'symbols records Kafka refused for good (not retried), by topic and reason (too-large | invalid-record | not-authorised | invalid-topic)',
      labelNames: ['topic', 'reason'],
      registers,
    }),
  };
}
