#!/bin/bash
# One-shot topic initialiser for docker-compose.yml (runs in the apache/kafka image).
# The services create missing topics themselves; this makes partition counts and configs
# explicit before any of them starts. Idempotent (--if-not-exists): existing topics are
# left as they are.
#
# Environment: KAFKA_BROKERS (kafka:9092), TRADES_PARTITIONS (12), TOPIC_TRADES,
# TOPIC_SYMBOLS, TOPIC_DEADLETTER, TOPIC_AGGREGATOR_STATE, TOPIC_BARS.
#
# Keep the `create` lines in step with pipelineTopics() in packages/kafka/src/topics.ts:
# packages/deploy-tests checks them line by line.
set -euo pipefail

BROKERS="${KAFKA_BROKERS:-kafka:9092}"
PARTITIONS="${TRADES_PARTITIONS:-12}"
TOPICS_SH=/opt/kafka/bin/kafka-topics.sh

# create <topic> <partitions> <config,config,...>
create() {
  local topic="$1" partitions="$2" configs="$3" args=()
  local IFS=','
  for c in $configs; do args+=(--config "$c"); done
  unset IFS
  "$TOPICS_SH" --bootstrap-server "$BROKERS" --create --if-not-exists \
    --topic "$topic" --partitions "$partitions" --replication-factor 1 "${args[@]}"
  echo "topic $topic: $("$TOPICS_SH" --bootstrap-server "$BROKERS" --describe --topic "$topic" | head -n 1)"
}

create "${TOPIC_TRADES:-cvd.trades.v1}" "$PARTITIONS" cleanup.policy=delete,retention.ms=604800000
create "${TOPIC_SYMBOLS:-cvd.symbols.v1}" 1 cleanup.policy=compact
create "${TOPIC_DEADLETTER:-cvd.deadletter.v1}" 1 cleanup.policy=delete,retention.ms=604800000
create "${TOPIC_AGGREGATOR_STATE:-cvd.aggregator-state.v1}" "$PARTITIONS" cleanup.policy=compact,segment.ms=600000,min.cleanable.dirty.ratio=0.1,max.message.bytes=67108864
create "${TOPIC_BARS:-cvd.bars.v1}" "$PARTITIONS" cleanup.policy=delete,retention.ms=21600000,segment.ms=3600000

echo "topics ready on $BROKERS"
