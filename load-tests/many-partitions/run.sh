#!/usr/bin/env bash
# One broker, one topic of many partitions (issue 16, item 2): builds target/millrace.jar through bin/millrace if it
# is stale, then runs ManyPartitions.java on the jar's class path (it starts and stops the broker itself). Arguments
# go to the program: --partitions N (20000), --nofile N (the broker's descriptor limit through prlimit; default: this
# shell's), --produce-batch N (1000 records a request), --produce-concurrency N (2). Exit status 1 when a check failed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bin/millrace --version > /dev/null
exec java -cp target/millrace.jar load-tests/many-partitions/ManyPartitions.java "$@"
