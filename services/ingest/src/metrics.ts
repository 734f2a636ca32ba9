/**
 * Prometheus metrics of the ingest service (prefix `cvd_ingest_`). Per-connection series are
 * labelled by the stable slot name (`spot-0`), not the attempt, so reconnects do not grow the
 * series count; per-symbol series by `market` and `symbol`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class IngestMetrics {
  readonly frames: Counter<'market' | 'symbol'>;
  readonly connectionFrames: Counter<'market' | 'connection'>;
  readonly published: Counter<'market' | 'symbol' | 'source'>;
  readonly duplicates: Counter<'market' | 'symbol'>;
  readonly gaps: Counter<'market' | 'symbol'>;
  readonly gapIds: Counter<'market' | 'symbol'>;
  readonly backfilled: Counter<'market' | 'symbol'>;
  readonly unrecoverable: Counter<'market' | 'symbol' | 'reason'>;
  readonly backfillRequests: Counter<'market' | 'outcome'>;
  readonly tailProbes: Counter<'market' | 'reason'>;
  readonly openHoleIds: Gauge<'market'>;
  readonly reconnects: Counter<'market' | 'connection' | 'cause'>;
  readonly rotations: Counter<'market' | 'connection'>;
  readonly connectionsOpened: Counter<'market'>;
  readonly connectionsOpen: Gauge<'market'>;
  readonly streams: Gauge<'market'>;
  readonly malformed: Counter<'market' | 'connection' | 'reason'>;
  readonly requestErrors: Counter<'market' | 'connection'>;
  readonly lag: Histogram<'market'>;
  readonly symbolLag: Gauge<'market' | 'symbol'>;
  readonly producerBuffered: Gauge;
  readonly producerErrors: Counter;
  readonly deadLettered: Counter<'market' | 'reason'>;
  readonly producerRefused: Counter<'topic' | 'reason' | 'outcome'>;
  readonly symbolsActive: Gauge<'market'>;
  readonly symbolRecordsInvalid: Counter;

  constructor(registry: Registry, gauges: { producerBuffered: () => number; openHoleIds: (market: string) => number; markets: readonly string[] }) {
    const registers = [registry];
    this.frames = new Counter({ name: 'cvd_ingest_frames_total', help: 'aggTrade frames received over websockets', labelNames: ['market', 'symbol'], registers });
    this.connectionFrames = new Counter({
      name: 'cvd_ingest_connection_frames_total',
      help: 'aggTrade frames received per logical connection',
      labelNames: ['market', 'connection'],
      registers,
    });
    this.published = new Counter({
      name: 'cvd_ingest_published_total',
      help: 'aggTrades handed to the Kafka producer, by source (ws | rest)',
      labelNames: ['market', 'symbol', 'source'],
      registers,
    });
    this.duplicates = new Counter({ name: 'cvd_ingest_duplicates_total', help: 'frames dropped as already published', labelNames: ['market', 'symbol'], registers });
    this.gaps = new Counter({ name: 'cvd_ingest_gaps_total', help: 'holes detected in the aggTrade id sequence', labelNames: ['market', 'symbol'], registers });
    this.gapIds = new Counter({ name: 'cvd_ingest_gap_ids_total', help: 'ids missing when holes were detected', labelNames: ['market', 'symbol'], registers });
    this.backfilled = new Counter({ name: 'cvd_ingest_backfilled_total', help: 'aggTrades recovered over REST and published', labelNames: ['market', 'symbol'], registers });
    this.unrecoverable = new Counter({
      name: 'cvd_ingest_unrecoverable_total',
      help: 'ids given up on: not_served (REST has no such row), request_failed, too_large (hole above INGEST_BACKFILL_MAX_IDS)',
      labelNames: ['market', 'symbol', 'reason'],
      registers,
    });
    this.tailProbes = new Counter({
      name: 'cvd_ingest_tail_probes_total',
      help: 'REST probes of the ids after the last published one (reason: reconnect, rotation, silence)',
      labelNames: ['market', 'reason'],
      registers,
    });
    this.backfillRequests = new Counter({
      name: 'cvd_ingest_backfill_runs_total',
      help: 'hole backfills run, by outcome (complete | partial | failed)',
      labelNames: ['market', 'outcome'],
      registers,
    });
    this.openHoleIds = new Gauge({
      name: 'cvd_ingest_open_hole_ids',
      help: 'ids currently missing and waiting for the websocket or REST',
      labelNames: ['market'],
      registers,
      collect() {
        for (const m of gauges.markets) this.set({ market: m }, gauges.openHoleIds(m));
      },
    });
    this.reconnects = new Counter({
      name: 'cvd_ingest_reconnects_total',
      help: 'connections lost and reopened, by cause (remote | silence | server-shutdown)',
      labelNames: ['market', 'connection', 'cause'],
      registers,
    });
    this.rotations = new Counter({ name: 'cvd_ingest_rotations_total', help: 'planned connection replacements before the forced lifetime', labelNames: ['market', 'connection'], registers });
    this.connectionsOpened = new Counter({ name: 'cvd_ingest_connections_opened_total', help: 'websocket connections opened', labelNames: ['market'], registers });
    this.connectionsOpen = new Gauge({ name: 'cvd_ingest_connections_open', help: 'websocket connections open now', labelNames: ['market'], registers });
    this.streams = new Gauge({ name: 'cvd_ingest_streams', help: 'aggTrade streams wanted', labelNames: ['market'], registers });
    this.malformed = new Counter({
      name: 'cvd_ingest_malformed_total',
      help: 'frames rejected by the parser, by reason (dead-lettered)',
      labelNames: ['market', 'connection', 'reason'],
      registers,
    });
    this.requestErrors = new Counter({ name: 'cvd_ingest_request_errors_total', help: 'SUBSCRIBE/UNSUBSCRIBE requests refused', labelNames: ['market', 'connection'], registers });
    this.lag = new Histogram({
      name: 'cvd_ingest_lag_ms',
      help: 'receipt time minus trade time T of websocket aggTrades, ms',
      labelNames: ['market'],
      buckets: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 60_000],
      registers,
    });
    this.symbolLag = new Gauge({ name: 'cvd_ingest_symbol_lag_ms', help: 'lag of the latest websocket aggTrade per symbol, ms', labelNames: ['market', 'symbol'], registers });
    this.producerBuffered = new Gauge({
      name: 'cvd_ingest_producer_buffered',
      help: 'messages queued in the Kafka producer, not yet acknowledged',
      registers,
      collect() {
        this.set(gauges.producerBuffered());
      },
    });
    this.producerErrors = new Counter({ name: 'cvd_ingest_producer_errors_total', help: 'failed Kafka sends (retried, until KAFKA_SEND_GIVE_UP)', registers });
    this.producerRefused = new Counter({
      name: 'cvd_ingest_producer_refused_total',
      help: 'records Kafka refused for good, by topic, reason (too-large | invalid-record | not-authorised | invalid-topic) and outcome (dead-lettered | truncated | dropped)',
      labelNames: ['topic', 'reason', 'outcome'],
      registers,
    });
    this.deadLettered = new Counter({ name: 'cvd_ingest_deadlettered_total', help: 'records written to the dead-letter topic', labelNames: ['market', 'reason'], registers });
    this.symbolsActive = new Gauge({ name: 'cvd_ingest_symbols_active', help: 'enabled symbols from the symbols topic', labelNames: ['market'], registers });
    this.symbolRecordsInvalid = new Counter({ name: 'cvd_ingest_symbol_records_invalid_total', help: 'undecodable symbols-topic records skipped', registers });
  }

}
