#!/usr/bin/env bash
# Storage benchmark in one command: installs the product, builds the JMH jar, measures dd on the same folder and data
# size, runs the JMH benchmarks and prints MiB/s side by side. See README.md for what each scenario means.
#
# Environment (all optional):
#   DATA_MIB=256      data written or read per measurement, by Millrace and by dd alike
#   DD_REPS=3         repetitions of each dd command per round (JMH_FORKS + 1 rounds per group; median over all)
#   JMH_FORKS=2       JMH forks per benchmark, each its own JMH run between two dd rounds (iterations per fork are
#                     set in the benchmark classes)
#   SCENARIOS="never every-MiB every-batch read"   which scenario groups to run (fsync policies of the append
#                     benchmarks, and the reads), each between two rounds of its own dd references
#   JMH_ARGS=...      extra JMH arguments, e.g. "-prof gc" or "-prof stack"
#   SKIP_INSTALL=1    benchmark the millrace jar already installed in the local Maven repository (when the work
#                     tree does not build, say); the benchmark jar is rebuilt all the same
#   FAIL_ON_GOAL=1    exit 3 when a scenario misses its goal (otherwise the run exits 0 and the table says FAIL)
#   ALLOW_TMPFS=1     run even when the data folder is on a tmpfs (the figures then mean nothing about a disk)
set -euo pipefail

LT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$LT_DIR/.." && pwd)
DATA_MIB=${DATA_MIB:-256}
DD_REPS=${DD_REPS:-3}
JMH_FORKS=${JMH_FORKS:-2}
SCENARIOS=${SCENARIOS:-never every-MiB every-batch read}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$LT_DIR/results
WORK=$LT_DIR/target/bench-data
DD_DIR=$WORK/dd-$STAMP
DD_TSV=$RESULTS/storage-bench-$STAMP.dd.tsv
JMH_LOG=$RESULTS/storage-bench-$STAMP.jmh.log
JAR=$LT_DIR/target/benchmarks.jar

log() { printf '\n== %s\n' "$*" >&2; }
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

if [[ "${SKIP_INSTALL:-0}" != 1 ]]; then
    log "installing the product ($ROOT_DIR)"
    if ! (cd "$ROOT_DIR" && mvn -B -ntp -q install -DskipTests); then
        echo "The product does not build; SKIP_INSTALL=1 benchmarks the jar last installed instead." >&2
        exit 1
    fi
fi
log "building the benchmarks"
(cd "$LT_DIR" && mvn -B -ntp -q package)
PRODUCT_JAR=$HOME/.m2/repository/io/millrace/millrace/0.1.0-SNAPSHOT/millrace-0.1.0-SNAPSHOT.jar
PRODUCT_JAR_TIME=$(date -u -r "$PRODUCT_JAR" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo unknown)

for group in $SCENARIOS; do
    case $group in
        never | every-MiB | every-batch | read) ;;
        *) echo "Unknown scenario group '$group' in SCENARIOS; known: never every-MiB every-batch read" >&2; exit 2 ;;
    esac
done
mkdir -p "$RESULTS" "$DD_DIR"
FS_TYPE=$(df --output=fstype "$WORK" | tail -n1)
DEVICE=$(df --output=source "$WORK" | tail -n1)
if [[ "$FS_TYPE" == tmpfs && "${ALLOW_TMPFS:-0}" != 1 ]]; then
    echo "$WORK is on a tmpfs: these figures would not measure a disk. Set ALLOW_TMPFS=1 to run anyway." >&2
    exit 2
fi

BATCH_BYTES=$(java -cp "$JAR" io.millrace.loadtests.storage.StorageWorkload)
COUNT_16K=$((DATA_MIB * 64))
COUNT_BATCH=$(((DATA_MIB * 1048576 + BATCH_BYTES - 1) / BATCH_BYTES))
F=$DD_DIR/F
FBATCH=$DD_DIR/F-batch

# dd_run KEY DD-ARGS...: runs dd on a fresh file and appends "KEY<TAB>bytes<TAB>seconds" to $DD_TSV.
dd_run() {
    local key=$1 out bytes seconds
    shift
    out=$(LC_ALL=C dd "$@" 2>&1 >/dev/null | tail -n1)
    # e.g. "268435456 bytes (268 MB, 256 MiB) copied, 0.0786143 s, 3.4 GB/s"
    bytes=$(awk '{print $1}' <<<"$out")
    seconds=$(awk -F', ' '{print $(NF-1)}' <<<"$out" | awk '{print $1}')
    if ! [[ "$bytes" =~ ^[0-9]+$ && "$seconds" =~ ^[0-9.e+-]+$ ]]; then
        echo "cannot parse dd output: $out" >&2
        exit 1
    fi
    printf '%s\t%s\t%s\n' "$key" "$bytes" "$seconds" >>"$DD_TSV"
    printf '  %-20s %s\n' "$key" "$out" >&2
}

# Each write starts on a new file with nothing dirty in the page cache, as each JMH iteration does.
fresh() { rm -f "$F"; sync; }

# dd_group GROUP: DD_REPS repetitions of the dd commands that GROUP's scenarios are compared with.
dd_group() {
    local i
    mkdir -p "$DD_DIR"
    for ((i = 1; i <= DD_REPS; i++)); do
        case $1 in
            never)
                fresh; dd_run dd-pagecache-16KiB if=/dev/zero of="$F" bs=16k count="$COUNT_16K"
                fresh; dd_run dd-pagecache-batch if=/dev/zero of="$F" bs="$BATCH_BYTES" count="$COUNT_BATCH" ;;
            every-MiB)
                fresh; dd_run dd-fdatasync-16KiB if=/dev/zero of="$F" bs=16k count="$COUNT_16K" conv=fdatasync
                fresh; dd_run dd-dsync-1MiB if=/dev/zero of="$F" bs=1M count="$DATA_MIB" oflag=dsync ;;
            every-batch)
                fresh; dd_run dd-dsync-16KiB if=/dev/zero of="$F" bs=16k count="$COUNT_16K" oflag=dsync ;;
            read)
                # Files just written and synced, read once untimed: the page cache is warm, as for ReadBenchmark.
                # How a file was written matters (see README.md): F has 16 KiB writes, as in the append references,
                # FBATCH Millrace's write size, as the log ReadBenchmark reads.
                if [[ $i -eq 1 ]]; then
                    fresh; rm -f "$FBATCH"
                    dd if=/dev/zero of="$F" bs=16k count="$COUNT_16K" conv=fdatasync status=none
                    dd if=/dev/zero of="$FBATCH" bs="$BATCH_BYTES" count="$COUNT_BATCH" conv=fdatasync status=none
                    dd if="$F" of=/dev/null bs=1M status=none
                    dd if="$FBATCH" of=/dev/null bs=1M status=none
                fi
                dd_run dd-read-1MiB if="$F" of=/dev/null bs=1M
                dd_run dd-read-batch-written if="$FBATCH" of=/dev/null bs=1M ;;
        esac
    done
    fresh
    rm -f "$FBATCH"
}

# jmh_group GROUP ROUND: one JMH fork of each benchmark of GROUP, results in their own JSON file.
jmh_group() {
    local selector params=()
    case $1 in
        read) selector='io\.millrace\.loadtests\.storage\.ReadBenchmark' ;;
        every-batch) selector='io\.millrace\.loadtests\.storage\.(AppendBenchmark|FileChannelBaselineBenchmark)'
           params=(-p fsync="$1" -p batchesPerAppend=1) ;;
        *) selector='io\.millrace\.loadtests\.storage\.(AppendBenchmark|FileChannelBaselineBenchmark)'
           params=(-p fsync="$1") ;;
    esac
    # shellcheck disable=SC2086 # JMH_ARGS is a list of arguments on purpose
    java -jar "$JAR" "$selector" -p dataMiB="$DATA_MIB" "${params[@]}" -f 1 -foe true \
        -rf json -rff "$RESULTS/storage-bench-$STAMP.jmh-$1-$2.json" -jvmArgsPrepend "-Dmillrace.bench.dir=$WORK" \
        ${JMH_ARGS:-} | tee -a "$JMH_LOG"
}

# Disk speed drifts on a shared machine (sync latency by 2x to 5x within minutes), so each group of scenarios
# alternates rounds of its own dd references with single JMH forks: dd, fork 1, dd, fork 2, dd.
log "on $WORK ($FS_TYPE on $DEVICE): $DATA_MIB MiB per measurement, groups: $SCENARIOS"
for group in $SCENARIOS; do
    log "[$group] dd, $DD_REPS repetitions"
    dd_group "$group"
    for ((round = 1; round <= JMH_FORKS; round++)); do
        log "[$group] JMH fork $round of $JMH_FORKS"
        jmh_group "$group" "$round"
        log "[$group] dd, $DD_REPS repetitions"
        dd_group "$group"
    done
done

PRODUCT="$(git -C "$ROOT_DIR" rev-parse --short HEAD) + $(git -C "$ROOT_DIR" status --porcelain -- src | wc -l)"
PRODUCT="$PRODUCT uncommitted paths under src/; jar installed $PRODUCT_JAR_TIME"
ENV_JSON=$(python3 -c 'import json, sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' \
    timestamp "$STAMP" \
    host "$(uname -n), $(nproc) cores, kernel $(uname -r)" \
    java "$(java -version 2>&1 | head -n1)" \
    disk "$WORK: $FS_TYPE on $DEVICE" \
    product "$PRODUCT" \
    data "$DATA_MIB MiB per measurement; JMH forks=$JMH_FORKS; dd repetitions=$(((JMH_FORKS + 1) * DD_REPS))" \
    raw "storage-bench-$STAMP.jmh-*.json, $(basename "$DD_TSV"), $(basename "$JMH_LOG")")

log "summary"
status=0
python3 "$LT_DIR/storage_summary.py" --jmh "$RESULTS/storage-bench-$STAMP".jmh-*.json --dd "$DD_TSV" \
    --batch-bytes "$BATCH_BYTES" --env "$ENV_JSON" \
    --md "$RESULTS/storage-bench-$STAMP.md" --json "$RESULTS/storage-bench-$STAMP.json" || status=$?
echo "Written: $RESULTS/storage-bench-$STAMP.md and .json" >&2
if [[ $status -eq 3 && "${FAIL_ON_GOAL:-0}" != 1 ]]; then
    status=0
fi
exit "$status"
