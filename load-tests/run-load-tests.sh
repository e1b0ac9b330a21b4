#!/usr/bin/env bash
# Broker and SDK load tests: producer, consumer, end-to-end latency, mixed, WebSocket fan-out (1,000 and 10,000
# subscribers); --background-load adds a CPU burner around every scenario; with --compare-kafka
# the same client scenarios against Apache Kafka (KRaft, from the kafka_2.13 jars of this module) in the same run.
# --brokers 3 --replication-factor 3 runs them on 3-broker clusters of each system; --failover measures failover time;
# --scenarios ws-fanout-cluster,reassign-1gib run the fan-out over 3 brokers and a 1 GiB partition's move onto a 4th.
# Each run starts its own broker(s) on free loopback ports with a fresh data folder and stops them by PID.
# Writes load-tests/results/load-<time>.{md,json,html}. Options: --help. Extra JVM options of the harness (client) JVM:
# LOADTESTS_JAVA_OPTS, e.g. a JFR recording of the clients.
set -euo pipefail
# The WebSocket fan-out scenarios hold a descriptor per subscriber in the harness and another in the broker, which
# inherits this shell's limit: raise the soft limit to what the chosen scenarios need, or stop here saying why.
# (The margin is FanOut.DESCRIPTOR_MARGIN: the harness's jars, SDK and HTTP connections.)
ws_subscribers=1000
ws_10k_subscribers=10000
scenarios=default
fan_out_by_default=1
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  value="${args[i + 1]:-}"
  case "${args[i]}" in
    --ws-subscribers) ws_subscribers="$value" ;;
    --ws-10k-subscribers) ws_10k_subscribers="$value" ;;
    --scenarios) scenarios=",$value," ;;
    --failover) fan_out_by_default=0 ;;
    --brokers) if [ "$value" -gt 1 ]; then fan_out_by_default=0; fi ;;
  esac
done
sockets=0
if [ "$scenarios" = default ]; then
  if [ "$fan_out_by_default" = 1 ]; then
    sockets=$((ws_subscribers > ws_10k_subscribers ? ws_subscribers : ws_10k_subscribers))
  fi
else
  if [[ "$scenarios" == *,ws-fanout,* || "$scenarios" == *,ws-fanout-cluster,* ]]; then sockets=$ws_subscribers; fi
  if [[ "$scenarios" == *,ws-fanout-10k,* ]] && [ "$ws_10k_subscribers" -gt "$sockets" ]; then
    sockets=$ws_10k_subscribers
  fi
fi
if [ "$sockets" -gt 0 ]; then
  needed=$((sockets + 1024))
  soft="$(ulimit -Sn)"
  if [ "$soft" != unlimited ] && [ "$soft" -lt "$needed" ] && ! ulimit -Sn "$needed" 2> /dev/null; then
    echo "run-load-tests.sh: $sockets WebSocket subscribers need $needed open files in the harness and in the" \
      "broker, but ulimit -n is $soft and the hard limit ($(ulimit -Hn)) allows no more. Raise the hard limit" \
      "(limits.conf, prlimit, docker run --ulimit nofile=...), or run fewer --ws-10k-subscribers, or leave" \
      "ws-fanout-10k out of --scenarios." >&2
    exit 1
  fi
fi

source "$(dirname "$0")/harness-classpath.sh"
exec java ${LOADTESTS_JAVA_OPTS:-} -Dlogback.configurationFile="$root/load-tests/target/classes/logback.xml" -Xms1g -Xmx1g -XX:+UseG1GC -Dmillrace.home="$root" -Dloadtests.kafka.classpath="$kafka_cp" \
  -Dloadtests.command="load-tests/run-load-tests.sh $*" -cp "$cp" io.millrace.loadtests.broker.LoadTest "$@"
