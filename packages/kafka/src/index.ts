export { createKafka, type KafkaSettings } from './client.js';
export { DEFAULT_TOPICS, ensureTopics, partitionCount, pipelineTopics, SEVEN_DAYS_MS, type TopicSpec } from './topics.js';
export { followTopic, readCompacted, readLastRecords, topicOffsets, type ReadRecord, type TopicFollower } from './reader.js';
export { withKafkaRetry, isRetriableKafkaError } from './retry.js';
export { BatchingProducer, type BatchingProducerOptions, type OutMessage } from './producer.js';
export { Partitioners, type Kafka, type Consumer, type Producer, type EachBatchPayload, type IHeaders } from 'kafkajs';
export { kafkaEnvShape, kafkaSettingsFromEnv, topicNamesFromEnv, type KafkaEnv, type TopicNames } from './env.js';
