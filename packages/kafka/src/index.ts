export { createKafka, type KafkaSettings } from './client.js';
export { BARS_RETENTION_MS, DEFAULT_TOPICS, ensureTopics, partitionCount, pipelineTopics, SEVEN_DAYS_MS, type TopicSpec } from './topics.js';
export { followTopic, readCompacted, readLastRecords, readTail, topicOffsets, type ReadRecord, type TailRead, type TopicFollower } from './reader.js';
export { withKafkaRetry, isRetriableKafkaError } from './retry.js';
export { KAFKA_ERROR_CODES, KafkaError, type KafkaErrorCode } from './errors.js';
export { BatchingProducer, DEFAULT_GIVE_UP_AFTER_MS, withDeadline, type BatchingProducerOptions, type OutMessage, type QueuedRecord } from './producer.js';
export {
  BATCH_OVERHEAD_BYTES,
  HEADER_OVERHEAD_BYTES,
  RECORD_OVERHEAD_BYTES,
  REFUSAL_REASONS,
  REFUSED_KEEP_BYTES,
  headerBytes,
  kafkaErrorTypes,
  recordBytes,
  refusalReason,
  refusedDeadLetter,
  type RefusalReason,
} from './refusal.js';
export { deadLetterOnRefusal, type DeadLetterOnRefusalOptions, type RefusalOutcome } from './refusal-handler.js';
export { idempotentProducer, Sender, type SendMessage } from './sender.js';
export {
  awaitWithHeartbeat,
  PartitionedConsumer,
  type Checkpoint,
  type ConsumedRecord,
  type ConsumerFactory,
  type DecodedBatch,
  type FlushWork,
  type Heartbeat,
  type PartitionedConsumerHandlers,
  type PartitionedConsumerHooks,
  type PartitionedConsumerOptions,
  type PartitionProgress,
} from './partitioned-consumer.js';
export { Partitioners, type Kafka, type Consumer, type Producer, type EachBatchPayload, type IHeaders } from 'kafkajs';
export { kafkaEnvShape, kafkaSettingsFromEnv, topicNamesFromEnv, type KafkaEnv, type TopicNames } from './env.js';
