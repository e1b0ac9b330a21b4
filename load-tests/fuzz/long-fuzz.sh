#!/usr/bin/env bash
# Long fuzz run of the decoders' jqwik properties (docs/ARCHITECTURE.md, "Fuzzing the decoders").
#
#   load-tests/fuzz/long-fuzz.sh [MINUTES] [FuzzTestClass ...]
#
# For each class (default: every *FuzzTest), first times a calibration run of CALIBRATION_TRIES tries per property,
# then runs it again with as many tries as MINUTES (default 10) of that rate allows, plus 10 % so that the run lasts
# at least that long (a run that still ends early, because the machine got quieter, is redone with more tries). Prints and appends to load-tests/results/fuzz-<time>.md the tries and the time per class.
# Exits non-zero at the first class whose properties found something (the shrunk input is in the Maven output,
# kept in load-tests/results/fuzz-<time>-<class>.log).
set -euo pipefail
cd "$(dirname "$0")/../.."

minutes=${1:-10}
shift || true
classes=("$@")
if [ ${#classes[@]} -eq 0 ]; then
  classes=(FrameCodecFuzzTest FrameReaderFuzzTest RecordBatchFuzzTest WebSocketSessionFuzzTest RequestBodyFuzzTest)
fi
calibration=${CALIBRATION_TRIES:-10000}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p load-tests/results
report=load-tests/results/fuzz-$stamp.md

# Compile once; each run below then only runs tests.
mvn -B -q -o -Dweb.skip=true test-compile

run_class() { # class tries log -> seconds taken
  local class=$1 tries=$2 log=$3 start end
  start=$(date +%s)
  if ! mvn -B -o -Dweb.skip=true surefire:test -Dtest="$class" -Dsurefire.failIfNoSpecifiedTests=false \
      -Djqwik.tries.default="$tries" >"$log" 2>&1; then
    echo "FAILED: $class with $tries tries per property; see $log" >&2
    grep -E "Tests run|FAIL|Sample|sample|Exception" "$log" | head -40 >&2
    exit 1
  fi
  end=$(date +%s)
  echo $((end - start))
}

{
  echo "# Long fuzz run $stamp"
  echo
  echo "Commit $(git rev-parse --short HEAD), $minutes minutes per class, seed fixed (Mutation.SEED)."
  echo
  echo "| class | tries per property | minutes | result |"
  echo "| --- | ---: | ---: | --- |"
} >"$report"

for class in "${classes[@]}"; do
  log=load-tests/results/fuzz-$stamp-$class.log
  seconds=$(run_class "$class" "$calibration" "$log")
  seconds=$((seconds > 0 ? seconds : 1))
  tries=$(( calibration * minutes * 60 * 11 / 10 / seconds ))
  tries=$(( tries > calibration ? tries : calibration ))
  echo "$class: $calibration tries in ${seconds}s; long run with $tries tries per property"
  seconds=$(run_class "$class" "$tries" "$log")
  # The machine's load changes under a run: a run that ended early is redone with tries scaled up (the seed is fixed,
  # so the longer run repeats the shorter one's inputs and goes on past them).
  while [ "$seconds" -lt $((minutes * 60)) ]; do
    tries=$(( tries * minutes * 60 * 11 / 10 / (seconds > 0 ? seconds : 1) ))
    echo "$class: only ${seconds}s; again with $tries tries per property"
    seconds=$(run_class "$class" "$tries" "$log")
  done
  line="| $class | $tries | $(awk "BEGIN { printf \"%.1f\", $seconds / 60 }") | nothing found |"
  echo "$line" | tee -a "$report"
done
echo "Report: $report"
