import { CompressionTypes, Partitioners, type IHeaders, type Kafka, type Producer } from 'kafkajs';
import { KafkaError } from './errors.js';

/** One record to produce: key (`market:SYMBOL`), value (null = tombstone) and headers. */
export interface OutMessage {
  key: string | Buffer;
  value: Buffer | null;
  headers?: IHeaders;
}

/** A message for {@link Sender.send}: like {@link OutMessage}, optionally to a given partition. */
export interface SendMessage extends OutMessage {
  /** Target partition; absent = the default partitioner on the key. */
  partition?: number;
}

/** The one producer configuration of the pipeline: idempotent, one request in flight, no topic auto-creation. */
export function idempotentProducer(kafka: Pick<Kafka, 'producer'>): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
}

/**
 * One acknowledged send at a time (acks=all), failing instead of retrying: for a caller that
 * has its own retry rule, e.g. a checkpoint that a later flush simply takes again. Messages
 * that must never be dropped go through `BatchingProducer`.
 */
export class Sender {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Pick<Kafka, 'producer'>, private readonly options: { compression?: 'none' | 'gzip' } = {}) {
    this.producer = idempotentProducer(kafka);
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /** Resolves once Kafka acknowledged every message; rejects on failure (nothing is retried here). */
  async send(topic: string, messages: readonly SendMessage[]): Promise<void> {
    if (!this.connected) throw new KafkaError('not-connected', 'the sender is not connected');
    await this.producer.send({
      topic,
      acks: -1,
      compression: this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers, partition: m.partition })),
    });
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }
}
