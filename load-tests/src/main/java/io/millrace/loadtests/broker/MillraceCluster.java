package io.millrace.loadtests.broker;

import io.millrace.loadtests.broker.LoadClient.TopicSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A Millrace cluster started as {@code bin/local-cluster} starts one, on free loopback ports: one ZooKeeper
 * ({@code bin/millrace zookeeper}, tick 500 ms, {@code -Xmx128m}) and N brokers ({@code bin/millrace start --broker-id
 * N --zookeeper ... --set zookeeper.session.timeout.ms=3000}, loopback listeners); ready when every broker answers
 * {@code /health} with 200 and lists N live brokers in {@code /api/brokers}. Data under {@code <dataDir>/zookeeper}
 * and {@code <dataDir>/broker-N}; logs beside the run's log file, one per process. {@code bin/millrace} execs the
 * JVM, so each PID is the process's own. {@link #addBroker} starts one more broker the same way, as an operator grows
 * a cluster.
 */
final class MillraceCluster extends BrokerUnderTest {

    /** bin/local-cluster's default session timeout. */
    static final int SESSION_TIMEOUT_MS = 3000;

    private final Path home;
    private final String javaOpts;
    private final TopicSettings topics;
    private final int zookeeperPort = freePort();
    private final Map<Integer, int[]> ports = new LinkedHashMap<>();
    private final Map<Integer, Process> processes = new LinkedHashMap<>();
    private Process zookeeper;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    MillraceCluster(Path home, Path dataDir, Path logFile, String javaOpts, int brokers, TopicSettings topics) {
        super(dataDir, logFile);
        this.home = home;
        this.javaOpts = javaOpts;
        this.topics = topics;
        for (int id = 1; id <= brokers; id++) {
            ports.put(id, new int[] {freePort(), freePort(), freePort()});
        }
    }

    @Override
    String system() {
        return "millrace";
    }

    private Path log(String process) {
        return logFile.resolveSibling(logFile.getFileName().toString().replaceFirst("[.]log$", "") + "-" + process
                + ".log");
    }

    @Override
    void start() throws Exception {
        Files.createDirectories(dataDir);
        Path zkLog = log("zookeeper");
        zookeeper = spawn(List.of("zookeeper", "--port", Integer.toString(zookeeperPort), "--host", "127.0.0.1",
                "--data-dir", dataDir.resolve("zookeeper").toString(), "--tick-time-ms", "500"), zkLog, "-Xmx128m");
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!Files.exists(zkLog) || !Files.readString(zkLog).contains("ZooKeeper ready at")) {
            if (!zookeeper.isAlive()) {
                throw new IllegalStateException("ZooKeeper exited; log:\n" + tail(zkLog, 40));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("ZooKeeper not ready within 120 s; log: " + zkLog);
            }
            Thread.sleep(100);
        }
        for (int id : ports.keySet()) {
            spawnBroker(id, List.of());
        }
        awaitReady(deadline);
    }

    /**
     * Starts one more broker, with the next id, against the same ZooKeeper and with {@code settings} ({@code
     * key=value}, each passed as {@code --set}) besides the others' flags; returns its id once every broker answers
     * {@code /health} and lists them all as live. It holds nothing until partitions move to it.
     */
    int addBroker(List<String> settings) throws Exception {
        int id = ports.size() + 1;
        ports.put(id, new int[] {freePort(), freePort(), freePort()});
        spawnBroker(id, settings);
        awaitReady(System.nanoTime() + Duration.ofSeconds(120).toNanos());
        return id;
    }

    private void spawnBroker(int id, List<String> settings) throws Exception {
        int[] p = ports.get(id);
        List<String> args = new ArrayList<>(List.of("start", "--broker-id", Integer.toString(id), "--zookeeper",
                "127.0.0.1:" + zookeeperPort, "--data-dir", dataDir.resolve("broker-" + id).toString(),
                "--http-port", Integer.toString(p[0]), "--tcp-port", Integer.toString(p[1]),
                "--kafka-port", Integer.toString(p[2]),
                "--set", "listen.host=127.0.0.1", "--set", "advertised.host=127.0.0.1",
                "--set", "zookeeper.session.timeout.ms=" + SESSION_TIMEOUT_MS));
        settings.forEach(setting -> args.addAll(List.of("--set", setting)));
        processes.put(id, spawn(args, log("broker-" + id), null));
    }

    /** Until every broker answers {@code /health} and lists all brokers started as live. */
    private void awaitReady(long deadline) throws Exception {
        int expected = processes.size();
        for (int id : ports.keySet()) {
            while (!healthy(id) || liveBrokers(id) < expected) {
                for (Map.Entry<Integer, Process> p : processes.entrySet()) {
                    if (!p.getValue().isAlive()) {
                        throw new IllegalStateException("broker " + p.getKey() + " exited during start-up; log:\n"
                                + tail(log("broker-" + p.getKey()), 40));
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("broker " + id + " not healthy with " + expected
                            + " live brokers within 120 s; log: " + log("broker-" + id));
                }
                Thread.sleep(100);
            }
        }
    }

    private Process spawn(List<String> args, Path log, String heap) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(home.resolve("bin/millrace").toString());
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).directory(home.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        if (heap != null) {
            builder.environment().put("MILLRACE_HEAP_OPTS", heap);
        } else {
            builder.environment().put("MILLRACE_JAVA_OPTS", javaOpts);
        }
        return builder.start();
    }

    private boolean healthy(int id) throws InterruptedException {
        try {
            return http.send(get(id, "/health"), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (java.io.IOException notYet) {
            return false;
        }
    }

    private long liveBrokers(int id) throws InterruptedException {
        String body = brokersJson(id);
        return body == null ? 0 : Pattern.compile("\"alive\"\\s*:\\s*true").matcher(body).results().count();
    }

    private String brokersJson(int id) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(get(id, "/api/brokers"), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (java.io.IOException notYet) {
            return null;
        }
    }

    private HttpRequest get(int id, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(id)[0] + path))
                .timeout(Duration.ofSeconds(2)).build();
    }

    @Override
    protected void ensureAlive() {
        processes.forEach((id, p) -> {
            if (!p.isAlive()) {
                throw new IllegalStateException("broker " + id + " exited with " + p.exitValue());
            }
        });
    }

    @Override
    List<Process> brokerProcesses() {
        return List.copyOf(processes.values());
    }

    @Override
    List<Process> otherProcesses() {
        return zookeeper == null ? List.of() : List.of(zookeeper);
    }

    @Override
    long kill(int nodeId) {
        Process p = processes.get(nodeId);
        long at = System.nanoTime();
        p.destroyForcibly(); // SIGKILL on Linux
        return at;
    }

    /** The controller as a live broker's {@code /api/brokers} names it. */
    @Override
    OptionalInt controller() {
        for (Map.Entry<Integer, Process> p : processes.entrySet()) {
            if (!p.getValue().isAlive()) {
                continue;
            }
            try {
                String body = brokersJson(p.getKey());
                if (body == null) {
                    continue;
                }
                // One object per broker: {"id":N,...,"controller":true|false}
                Matcher m = Pattern.compile("\"id\"\\s*:\\s*(\\d+)[^}]*?\"controller\"\\s*:\\s*true").matcher(body);
                if (m.find()) {
                    return OptionalInt.of(Integer.parseInt(m.group(1)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return OptionalInt.empty();
    }

    /** The brokers' ids in the order they were started. */
    List<Integer> brokerIds() {
        return List.copyOf(ports.keySet());
    }

    /** Broker {@code id}'s HTTP port (REST, WebSocket, /metrics). */
    int httpPort(int id) {
        return ports.get(id)[0];
    }

    /** Broker {@code id}'s process. */
    Process process(int id) {
        return processes.get(id);
    }

    String bootstrap() {
        return ports.values().stream().map(p -> "127.0.0.1:" + p[1]).collect(Collectors.joining(","));
    }

    @Override
    String kafkaBootstrap() {
        return ports.values().stream().map(p -> "127.0.0.1:" + p[2]).collect(Collectors.joining(","));
    }

    @Override
    MillraceLoadClient client() {
        return new MillraceLoadClient(bootstrap(), topics);
    }
}
