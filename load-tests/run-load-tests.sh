#!/usr/bin/env bash
# Broker and SDK load tests: producer, consumer, end-to-end latency, mixed, WebSocket fan-out; with --compare-kafka
# the same client scenarios against Apache Kafka (KRaft, from the kafka_2.13 jars of this module) in the same run.
# --brokers 3 --replication-factor 3 runs them on 3-broker clusters of each system; --failover measures failover time.
# Each run starts its own broker(s) on free loopback ports with a fresh data folder and stops them by PID.
# Writes load-tests/results/load-<time>.{md,json,html}. Options: --help. Extra JVM options of the harness (client) JVM:
# LOADTESTS_JAVA_OPTS, e.g. a JFR recording of the clients.
set -euo pipefail
source "$(dirname "$0")/harness-classpath.sh"
exec java ${LOADTESTS_JAVA_OPTS:-} -Dlogback.configurationFile="$root/load-tests/target/classes/logback.xml" -Xms1g -Xmx1g -XX:+UseG1GC -Dmillrace.home="$root" -Dloadtests.kafka.classpath="$kafka_cp" \
  -Dloadtests.command="load-tests/run-load-tests.sh $*" -cp "$cp" io.millrace.loadtests.broker.LoadTest "$@"
