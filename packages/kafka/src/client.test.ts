import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logLevel } from 'kafkajs';
import { kafkajsLogLevel } from './client.js';

// The messages below are the ones kafkajs 2.2 prints during a clean start of the pipeline on a
// fresh broker (several services creating the same topics, partitions electing leaders).
test('the start-up races of a fresh cluster are logged at debug, not error', () => {
  const races: [string, string][] = [
    ['Response CreateTopics(key: 19, version: 3)', 'Topic creation errors'],
    ['Response ListOffsets(key: 2, version: 3)', 'This server is not the leader for that topic-partition'],
    ['Response Metadata(key: 3, version: 6)', 'There is no leader for this topic-partition as we are in the middle of a leadership election'],
    ['Response Fetch(key: 1, version: 11)', 'This server does not host this topic-partition'],
    ['Response JoinGroup(key: 11, version: 5)', "The coordinator is loading and hence can't process requests for this group"],
    ['Response Heartbeat(key: 12, version: 3)', 'The group is rebalancing, so a rejoin is needed'],
  ];
  for (const [message, error] of races) assert.equal(kafkajsLogLevel(logLevel.ERROR, message, error), 'debug', `${message}: ${error}`);
});

test('a consumer crash line from kafkajs is a warning; the consumer shell decides whether it is an error', () => {
  assert.equal(kafkajsLogLevel(logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded: This server is not the leader for that topic-partition'), 'warn');
  assert.equal(kafkajsLogLevel(logLevel.ERROR, 'Crash: KafkaJSProtocolError: Not authorized to access group'), 'warn');
  assert.equal(kafkajsLogLevel(logLevel.ERROR, 'Restarting the consumer in 300ms'), 'warn');
});

test('real errors stay errors and other levels map one to one', () => {
  assert.equal(kafkajsLogLevel(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'), 'error');
  assert.equal(kafkajsLogLevel(logLevel.ERROR, 'Response SaslAuthenticate(key: 36, version: 1)', 'SASL Authentication failed'), 'error');
  assert.equal(kafkajsLogLevel(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', 'The request included a message larger than the max message size the server will accept'), 'error');
  assert.equal(kafkajsLogLevel(logLevel.WARN, 'KafkaJS v2.0.0 switched default partitioner'), 'warn');
  assert.equal(kafkajsLogLevel(logLevel.INFO, 'Consumer has joined the group'), 'info');
  assert.equal(kafkajsLogLevel(logLevel.DEBUG, 'Request Fetch'), 'debug');
});

test('the idempotent producer retry-limit warning is dropped', () => {
  assert.equal(kafkajsLogLevel(logLevel.WARN, 'Limiting retries for the idempotent producer to Number.MAX_SAFE_INTEGER'), undefined);
});
