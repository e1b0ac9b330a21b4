#!/usr/bin/env bash
# The floor this machine sets under the 10,000-socket WebSocket fan-out (issue 15, item 5): no broker, no JVM, just a
# C writer sending one message per socket per tick over loopback TCP and a C reader on the same cores, with a spin of
# --work-ns before each write standing for what a broker does per delivery besides the write. Runs every work value,
# plain and with a burner of the harness's --background-load duty, --runs times each; prints medians and writes
# load-tests/results/loopback-floor-<time>.md and .json. See load-tests/README.md.
#
# Options (all optional):
#   --runs N           runs per setting (3); medians are reported, every run is in the .json
#   --work-ns "LIST"   nanoseconds of spin per delivery, one setting each ("0 2000 3000 4000 5000")
#   --burner-duty P    the background setting's burner: busy P % of every 10 ms (50, as --background-load); 0 runs
#                      only the plain setting
#   --sockets N --rate R --bytes B --seconds S --warmup-seconds U --writer-threads W --reader-threads T
#                      passed to the program (10,000 sockets, 10 messages/s, 1,200 bytes: one 1 KiB record's
#                      records message, 20 s measured after 5 s, 2 writer and 2 reader threads as the broker's and the
#                      harness's event loops on 2 cores)
set -euo pipefail

LT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUNS=3
WORK_NS="0 2000 3000 4000 5000"
BURNER_DUTY=50
PASS=()
while [ $# -gt 0 ]; do
    case $1 in
        --runs) RUNS=$2; shift 2 ;;
        --work-ns) WORK_NS=$2; shift 2 ;;
        --burner-duty) BURNER_DUTY=$2; shift 2 ;;
        --sockets|--rate|--bytes|--seconds|--warmup-seconds|--writer-threads|--reader-threads)
            PASS+=("$1" "$2"); shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-loopback-floor: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

command -v gcc > /dev/null || { echo "run-loopback-floor: needs gcc (apt-get install -y gcc)" >&2; exit 1; }
BIN=$LT_DIR/target/loopback-floor/loopback_floor
mkdir -p "$(dirname "$BIN")" "$LT_DIR/results"
gcc -O2 -Wall -Wextra -Werror -pthread -o "$BIN" "$LT_DIR/loopback-floor/loopback_floor.c"

sockets=10000
for ((i = 0; i < ${#PASS[@]}; i += 2)); do
    [ "${PASS[i]}" = --sockets ] && sockets=${PASS[i + 1]}
done
needed=$((sockets + 64))
soft=$(ulimit -Sn)
if [ "$soft" != unlimited ] && [ "$soft" -lt "$needed" ] && ! ulimit -Sn "$needed" 2> /dev/null; then
    echo "run-loopback-floor: $sockets sockets need ulimit -n $needed; the hard limit is $(ulimit -Hn)" >&2
    exit 1
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RAW=$LT_DIR/results/loopback-floor-$STAMP.jsonl
: > "$RAW"
duties=(0)
[ "$BURNER_DUTY" -gt 0 ] && duties+=("$BURNER_DUTY")
for run in $(seq 1 "$RUNS"); do
    for duty in "${duties[@]}"; do
        for work in $WORK_NS; do
            printf 'run %s/%s, work %s ns, burner %s %% ... ' "$run" "$RUNS" "$work" "$duty" >&2
            line=$("$BIN" "${PASS[@]}" --work-ns "$work" --burner-duty "$duty") || {
                echo "run-loopback-floor: a run lost deliveries: $line" >&2; exit 1; }
            echo "$line" >> "$RAW"
            python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("p99 %.1f ms" % r["p99_ms"])' "$line" >&2
        done
    done
done

python3 - "$RAW" "$LT_DIR/results/loopback-floor-$STAMP" "$STAMP" << 'EOF'
import json, statistics, sys
raw, base, stamp = sys.argv[1:4]
runs = [json.loads(line) for line in open(raw)]
settings = {}
for r in runs:
    settings.setdefault((r["burner_duty"], r["work_ns"]), []).append(r)
first = runs[0]
lines = [f"# Loopback floor, {stamp}", "",
         f"{first['sockets']:,} sockets x {first['rate']} messages/s of {first['bytes']:,} bytes over loopback TCP, "
         f"{first['writer_threads']} writer and {first['reader_threads']} reader threads, {first['seconds']} s measured "
         f"after {first['warmup_seconds']} s; latency from each message's scheduled time; CPU per delivery over the "
         "whole run. Medians of the runs (every run in the .json).", "",
         "| burner | work per delivery, ns | writer CPU, us/delivery | reader CPU, us/delivery | p50 ms | p99 ms (runs) | max ms |",
         "|---|---|---|---|---|---|---|"]
summary = []
for (duty, work), rs in sorted(settings.items()):
    med = lambda key: statistics.median(r[key] for r in rs)
    burner = f"{duty} % ({med('burner_cores'):.2f} cores)" if duty else "none"
    p99s = " / ".join(f"{r['p99_ms']:.1f}" for r in rs)
    lines.append(f"| {burner} | {work} | {med('writer_cpu_us_per_delivery'):.2f} | "
                 f"{med('reader_cpu_us_per_delivery'):.2f} | {med('p50_ms'):.1f} | {med('p99_ms'):.1f} ({p99s}) | "
                 f"{med('max_ms'):.1f} |")
    summary.append({"burner_duty": duty, "work_ns": work, "runs": len(rs),
                    **{k: med(k) for k in ("writer_cpu_us_per_delivery", "reader_cpu_us_per_delivery", "p50_ms",
                                           "p99_ms", "max_ms", "burner_cores")}})
open(base + ".md", "w").write("\n".join(lines) + "\n")
json.dump({"stamp": stamp, "medians": summary, "runs": runs}, open(base + ".json", "w"), indent=1)
print("\n".join(lines))
print(f"\nwrote {base}.md and {base}.json")
EOF
rm -f "$RAW"
