#!/usr/bin/env bash
# Apache Kafka's own ProducerPerformance and ConsumerPerformance (kafka-tools, the classes behind
# kafka-producer-perf-test.sh and kafka-consumer-perf-test.sh) with the same settings against Millrace's Kafka
# listener and against Apache Kafka 4.2 (KRaft, from this module's jars): per run and system a fresh single broker on
# free loopback ports, the producer tool at full speed, the consumer tool, the producer tool at a fixed rate; every
# broker and tool process is stopped by PID. Writes load-tests/results/kafka-tools-<time>.{md,json}. Options: --help.
set -euo pipefail
source "$(dirname "$0")/harness-classpath.sh"
exec java -Dlogback.configurationFile="$root/load-tests/target/classes/logback.xml" -Xmx256m -XX:+UseG1GC \
  -Dmillrace.home="$root" -Dloadtests.kafka.classpath="$kafka_cp" \
  -Dloadtests.command="load-tests/run-kafka-tools-bench.sh $*" -cp "$cp" io.millrace.loadtests.broker.KafkaToolsBenchmark "$@"
