#!/usr/bin/env bash
# Measures broker start-up as the README starts it (bin/millrace start): launch to the first `GET /health` = 200 (build excluded), over N runs, each with a
# fresh data folder on loopback ports; then the idle broker's resident memory. Prints the median and writes a
# report under load-tests/results/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${RUNS:-5}"
cd "$root"
# Build the jar and the class-data archive first, so that only the JVM start is timed.
bin/millrace --version > /dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
times=()
rss=""
for i in $(seq 1 "$runs"); do
  data="$(mktemp -d)"
  http=$(free_port); tcp=$(free_port); kafka=$(free_port); zk=$(free_port)
  start=$(date +%s%N)
  bin/millrace start --data-dir "$data" --http-port "$http" --tcp-port "$tcp" --kafka-port "$kafka" \
    --zookeeper-port "$zk" --set listen.host=127.0.0.1 > "$data.log" 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$http/health"; do
    kill -0 "$pid" 2>/dev/null || { echo "broker died:"; cat "$data.log"; exit 1; }
    sleep 0.01
  done
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  times+=("$ms")
  if [ "$i" = "$runs" ]; then
    sleep 5
    rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")
  fi
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$data" "$data.log"
  echo "run $i: ${ms} ms to ready"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}')
mkdir -p load-tests/results
report="load-tests/results/startup-$(date +%Y%m%d-%H%M%S).md"
{
  echo "# Start-up, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "| runs | times to ready (ms) | median (ms) | idle RSS after 5 s (MiB) |"
  echo "| --- | --- | --- | --- |"
  echo "| $runs | ${times[*]} | $median | $rss |"
} > "$report"
echo "median ${median} ms to ready over $runs runs (${times[*]}); idle RSS ${rss} MiB; report: $report"
