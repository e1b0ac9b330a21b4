package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.LoopbackPorts;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/local-cluster} and {@link ClusterHarness} start what they promise: a ZooKeeper and 3 brokers that see
 * each other, one controller among them, a killed broker noticed within its session timeout, and nothing left
 * running after a stop.
 */
class LocalClusterIT {

    private static final Path HOME = Path.of(System.getProperty("millrace.home", ".")).toAbsolutePath();

    @Test
    void theScriptStartsThreeBrokersThatSeeEachOtherAndStopsThemAll(@TempDir Path workDir) throws Exception {
        // One run for all ten ports, so that no broker's port is another's or ZooKeeper's (the script numbers them).
        int zookeeperPort = LoopbackPorts.freeRun(10);
        int httpBase = zookeeperPort + 1;
        int tcpBase = httpBase + 3;
        int kafkaBase = tcpBase + 3;
        Map<String, String> env = Map.of("LOCAL_CLUSTER_ZOOKEEPER_PORT", Integer.toString(zookeeperPort),
                "LOCAL_CLUSTER_HTTP_PORT", Integer.toString(httpBase), "LOCAL_CLUSTER_TCP_PORT",
                Integer.toString(tcpBase), "LOCAL_CLUSTER_KAFKA_PORT", Integer.toString(kafkaBase));
        Path clusterDir = workDir.resolve("data/local-cluster");
        List<Long> pids = new ArrayList<>();
        try {
            Script start = script(workDir, env, "start");
            assertThat(start.exitCode()).as(start.output()).isZero();
            for (int id = 1; id <= 3; id++) {
                assertThat(start.output()).contains("broker " + id + ": http://127.0.0.1:" + (httpBase + id - 1) + "/")
                        .contains("tcp 127.0.0.1:" + (tcpBase + id - 1));
            }
            assertThat(start.output()).contains("ZooKeeper 127.0.0.1:" + zookeeperPort)
                    .contains("SDK bootstrap: 127.0.0.1:" + tcpBase + ",127.0.0.1:" + (tcpBase + 1) + ",127.0.0.1:"
                            + (tcpBase + 2));
            pids.add(pidIn(clusterDir.resolve("zookeeper.pid")));
            for (int id = 1; id <= 3; id++) {
                long pid = pidIn(clusterDir.resolve("broker-" + id + ".pid"));
                pids.add(pid);
                // The harness must start its brokers exactly as the script does, so that cluster tests test this.
                assertThat(startArguments(pid)).isEqualTo(ClusterHarness.brokerArguments(id,
                        "127.0.0.1:" + zookeeperPort, clusterDir.resolve("broker-" + id), httpBase + id - 1,
                        tcpBase + id - 1, kafkaBase + id - 1, ClusterHarness.DEFAULT_SESSION_TIMEOUT_MS, Map.of()));
                Rest rest = new Rest("http://127.0.0.1:" + (httpBase + id - 1));
                assertThat(rest.get("/health").status()).isEqualTo(200);
                assertThat(rest.get("/api/brokers").array().stream()
                        .filter(b -> ((JsonObject) b).getBoolean("alive")).count()).isEqualTo(3);
            }
            assertThat(Files.isDirectory(clusterDir.resolve("zookeeper"))).isTrue();

            Script status = script(workDir, Map.of(), "status");
            assertThat(status.exitCode()).as(status.output()).isZero();
            assertThat(status.output()).contains("zookeeper: running (pid " + pids.get(0) + ")");
            for (int id = 1; id <= 3; id++) {
                assertThat(status.output()).contains("broker " + id + ": running (pid " + pids.get(id) + ")")
                        .contains("health 200, sees 3 live brokers");
            }

            Script again = script(workDir, env, "start");
            assertThat(again.exitCode()).isNotZero();
            assertThat(again.output()).contains("already running");

            Script stop = script(workDir, Map.of(), "stop");
            assertThat(stop.exitCode()).as(stop.output()).isZero();
            assertThat(pids).allSatisfy(pid -> assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive))
                    .as("process %d after stop", pid).isEmpty());
            assertThat(stop.output()).containsSubsequence("stopped broker-", "stopped zookeeper");
            assertThat(clusterDir.resolve("broker-1.pid")).doesNotExist();

            Script stopAgain = script(workDir, Map.of(), "stop");
            assertThat(stopAgain.exitCode()).isZero();
            assertThat(stopAgain.output()).contains("not running");
            assertThat(script(workDir, Map.of(), "status").exitCode()).isEqualTo(3);
        } finally {
            script(workDir, Map.of(), "stop");
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    @Test
    void theHarnessSeesOneControllerAndNoticesAKilledBrokerWithinTheSessionTimeout() {
        try (ClusterHarness cluster = ClusterHarness.start(3)) {
            for (int id : cluster.ids()) {
                assertThat(cluster.liveBrokers(id)).contains(List.of(1, 2, 3));
                assertThat(cluster.controllers(id)).hasValueSatisfying(c -> assertThat(c).hasSize(1));
            }
            assertThat(cluster.ids().stream().map(cluster::controllers).distinct()).hasSize(1);
            assertThat(cluster.bootstrap().split(",")).hasSize(3).allMatch(a -> a.startsWith("127.0.0.1:"));

            long pid = cluster.pid(2);
            cluster.kill(2);
            assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty();
            long killed = System.nanoTime();
            cluster.awaitLiveBrokers(2, cluster.failureDetectionDeadline());
            long detectedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
            System.out.printf("Broker 2 listed as dead %d ms after SIGKILL (session timeout %d ms)%n", detectedMs,
                    cluster.sessionTimeoutMs());
            assertThat(cluster.liveBrokers(1)).contains(List.of(1, 3));
            assertThat(cluster.liveBrokers(3)).contains(List.of(1, 3));

            cluster.restart(2);
            cluster.awaitLiveBrokers(3);
            assertThat(cluster.pid(2)).isNotEqualTo(pid);
            for (int id : cluster.ids()) {
                assertThat(cluster.liveBrokers(id)).contains(List.of(1, 2, 3));
                await().atMost(Duration.ofSeconds(30)).until(() -> cluster.controllers(id).map(List::size)
                        .equals(Optional.of(1)));
            }
        }
    }

    private record Script(int exitCode, String output) {
    }

    /** Runs bin/local-cluster in {@code workDir} with {@code env}, waiting at most 3 minutes. */
    private static Script script(Path workDir, Map<String, String> env, String... arguments) throws IOException,
            InterruptedException {
        List<String> command = new ArrayList<>(List.of(HOME.resolve("bin/local-cluster").toString()));
        command.addAll(Arrays.asList(arguments));
        Path output = Files.createTempFile(workDir, "local-cluster", ".out");
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(output.toFile());
        builder.environment().putAll(env);
        Process process = builder.start();
        if (!process.waitFor(3, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("bin/local-cluster " + String.join(" ", arguments) + " still runs after 3 min: "
                    + Files.readString(output));
        }
        return new Script(process.exitValue(), Files.readString(output));
    }

    private static long pidIn(Path file) throws IOException {
        return Long.parseLong(Files.readString(file).trim());
    }

    /** The arguments of a broker's JVM after {@code -jar .../millrace.jar start}. */
    private static List<String> startArguments(long pid) throws IOException {
        String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                StandardCharsets.UTF_8);
        List<String> all = Arrays.asList(cmdline.split("\0"));
        int jar = all.indexOf("-jar");
        assertThat(jar).as("java command line %s", all).isNotNegative();
        assertThat(all.get(jar + 2)).isEqualTo("start");
        return all.subList(jar + 3, all.size());
    }
}
