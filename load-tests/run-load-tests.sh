#!/usr/bin/env bash
# Broker and SDK load tests: producer, consumer, end-to-end latency, mixed, WebSocket fan-out; with --compare-kafka
# the same client scenarios against Apache Kafka (KRaft, from the kafka_2.13 jars of this module) in the same run.
# --brokers 3 --replication-factor 3 runs them on 3-broker clusters of each system; --failover measures failover time.
# Each run starts its own broker(s) on free loopback ports with a fresh data folder and stops them by PID.
# Writes load-tests/results/load-<time>.{md,json,html}. Options: --help. Extra JVM options of the harness (client) JVM:
# LOADTESTS_JAVA_OPTS, e.g. a JFR recording of the clients.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ "${SKIP_INSTALL:-}" != 1 ]; then
  # The SDK the harness drives comes from the local repository; bin/millrace builds the broker jar itself.
  mvn -B -ntp -q install -DskipTests
fi
bin/millrace --version > /dev/null
cd load-tests
mvn -B -ntp -q compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
# The product's own classes first: the local Maven repository is shared by every work tree on this machine, so the
# installed SDK jar may be another branch's by the time this runs.
cp="target/classes:$root/target/classes:$(cat target/classpath.txt)"
# Kafka's JVM gets the same jars minus Millrace and the stacks only Millrace's SDK and the harness use.
kafka_cp="$(tr ':' '\n' < target/classpath.txt | grep -v -e /io/millrace/ -e /io/vertx/ -e /io/netty/ \
  -e /io/projectreactor/ -e /org/openjdk/jmh/ -e /io/reactivex/ | paste -sd: -)"
exec java ${LOADTESTS_JAVA_OPTS:-} -Dlogback.configurationFile="$root/load-tests/target/classes/logback.xml" -Xms1g -Xmx1g -XX:+UseG1GC -Dmillrace.home="$root" -Dloadtests.kafka.classpath="$root/load-tests/target/classes:$kafka_cp" \
  -Dloadtests.command="load-tests/run-load-tests.sh $*" -cp "$cp" io.millrace.loadtests.broker.LoadTest "$@"
