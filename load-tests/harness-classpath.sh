# Sourced by the load-test scripts (run-load-tests.sh, run-kafka-tools-bench.sh): installs the product (unless
# SKIP_INSTALL=1), builds target/millrace.jar through bin/millrace, compiles this module and sets
#   root      the repository's root
#   cp        the harness JVM's class path: the product's own classes first, then this module's dependencies
#   kafka_cp  the class path of Kafka's JVMs (its brokers and tools): this module's classes and dependencies minus
#             Millrace and the stacks only Millrace's SDK and the harness use
# and leaves the working directory at load-tests/.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
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
kafka_cp="$root/load-tests/target/classes:$(tr ':' '\n' < target/classpath.txt | grep -v -e /io/millrace/ \
  -e /io/vertx/ -e /io/netty/ -e /io/projectreactor/ -e /org/openjdk/jmh/ -e /io/reactivex/ | paste -sd: -)"
