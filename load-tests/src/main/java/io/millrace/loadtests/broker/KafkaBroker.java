package io.millrace.loadtests.broker;

import java.nio.file.Files;
import java.nio.file.Path;
import io.millrace.loadtests.broker.LoadClient.TopicSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * Apache Kafka 4.x in KRaft mode run from the {@code kafka_2.13} jars on this module's class path: one node, or a
 * cluster of N nodes that each combine the broker and controller roles (a static quorum of all N), each in its own
 * JVM: each node's storage is formatted with {@code kafka.tools.StorageTool} (one cluster id), then {@code kafka.Kafka}
 * runs its generated {@code server.properties}, with the JVM options of Kafka's own start script. A cluster keeps
 * Kafka's defaults for everything that matters to replication and failover (session and election timeouts, replica
 * fetching); only the internal topics' replication factors follow the node count, as they must. Node N's data and
 * config live in {@code <dataDir>/node-N} (a single node: {@code <dataDir>} itself, as before).
 */
final class KafkaBroker extends BrokerUnderTest {

    /** kafka-run-class.sh's performance options (KAFKA_JVM_PERFORMANCE_OPTS), of every Kafka JVM. */
    static final List<String> KAFKA_PERFORMANCE_OPTS = List.of("-server", "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
            "-XX:MaxInlineLevel=15", "-Djava.awt.headless=true");

    /** kafka-server-start.sh's heap and kafka-run-class.sh's performance options. */
    static final List<String> KAFKA_JVM_OPTS = Stream.concat(Stream.of("-Xmx1G", "-Xms1G"),
            KAFKA_PERFORMANCE_OPTS.stream()).toList();

    private final String classPath;
    private final String extraJavaOpts;
    private final String logbackConfig = System.getProperty("logback.configurationFile", "");
    private final int nodes;
    private final TopicSettings topics;
    private final int[] ports;
    private final int[] controllerPorts;
    private final List<Process> processes = new ArrayList<>();

    KafkaBroker(String classPath, Path dataDir, Path logFile, String extraJavaOpts) {
        this(classPath, dataDir, logFile, extraJavaOpts, 1, TopicSettings.SINGLE);
    }

    KafkaBroker(String classPath, Path dataDir, Path logFile, String extraJavaOpts, int nodes, TopicSettings topics) {
        super(dataDir, logFile);
        this.classPath = classPath;
        this.extraJavaOpts = extraJavaOpts;
        this.nodes = nodes;
        this.topics = topics;
        this.ports = IntStream.range(0, nodes).map(i -> freePort()).toArray();
        this.controllerPorts = IntStream.range(0, nodes).map(i -> freePort()).toArray();
    }

    @Override
    String system() {
        return "kafka";
    }

    @Override
    String kafkaBootstrap() {
        return bootstrap();
    }

    String bootstrap() {
        return IntStream.of(ports).mapToObj(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
    }

    private Path nodeDir(int node) {
        return nodes == 1 ? dataDir : dataDir.resolve("node-" + node);
    }

    private Path nodeLog(int node) {
        return nodes == 1 ? logFile : logFile.resolveSibling(
                logFile.getFileName().toString().replaceFirst("[.]log$", "") + "-node-" + node + ".log");
    }

    private String config(int node, Path logs) {
        int i = node - 1;
        String voters = IntStream.rangeClosed(1, nodes).mapToObj(n -> n + "@127.0.0.1:" + controllerPorts[n - 1])
                .collect(Collectors.joining(","));
        int internalReplicas = Math.min(3, nodes);
        return String.join("\n",
                "process.roles=broker,controller",
                "node.id=" + node,
                "controller.quorum.voters=" + voters,
                "listeners=PLAINTEXT://127.0.0.1:" + ports[i] + ",CONTROLLER://127.0.0.1:" + controllerPorts[i],
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + ports[i],
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + logs,
                "num.partitions=1",
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=" + internalReplicas,
                "transaction.state.log.replication.factor=" + internalReplicas,
                "transaction.state.log.min.isr=" + Math.min(2, internalReplicas),
                "share.coordinator.state.topic.replication.factor=" + internalReplicas,
                "share.coordinator.state.topic.min.isr=" + Math.min(2, internalReplicas),
                "group.initial.rebalance.delay.ms=0",
                // A deleted topic's files go after file.delete.delay.ms (default 60 s), and the task that deletes
                // them first runs log.initial.task.delay.ms after start (30 s); the harness waits for them to go.
                "file.delete.delay.ms=500",
                "log.initial.task.delay.ms=0",
                "");
    }

    @Override
    void start() throws Exception {
        String clusterId = Uuid.randomUuid().toString();
        List<Path> configs = new ArrayList<>();
        for (int node = 1; node <= nodes; node++) {
            Path logs = nodeDir(node).resolve("logs");
            Files.createDirectories(logs);
            Path config = nodeDir(node).resolve("server.properties");
            Files.writeString(config, config(node, logs));
            configs.add(config);
            List<String> format = java("kafka.tools.StorageTool", "format", "-t", clusterId, "-c", config.toString());
            Process formatting = new ProcessBuilder(format).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(nodeLog(node).toFile())).start();
            if (!formatting.waitFor(120, TimeUnit.SECONDS) || formatting.exitValue() != 0) {
                throw new IllegalStateException("kafka storage format failed; log: " + tail(nodeLog(node), 40));
            }
        }
        for (int node = 1; node <= nodes; node++) {
            processes.add(new ProcessBuilder(java("kafka.Kafka", configs.get(node - 1).toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(nodeLog(node).toFile())).start());
        }
        process = processes.get(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                3000))) {
            while (true) {
                ensureAlive();
                try {
                    if (admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).size() >= nodes) {
                        return;
                    }
                } catch (Exception notYet) {
                    // not serving yet
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Kafka not ready within 120 s; log: " + logFile);
                }
                Thread.sleep(100);
            }
        }
    }

    private List<String> java(String mainClass, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(KAFKA_JVM_OPTS);
        if (!extraJavaOpts.isBlank()) {
            command.addAll(List.of(extraJavaOpts.trim().split("\\s+")));
        }
        command.add("-Dlogback.configurationFile=" + logbackConfig);
        command.add("-cp");
        command.add(classPath);
        command.add(mainClass);
        command.addAll(List.of(args));
        return command;
    }

    @Override
    protected void ensureAlive() throws java.io.IOException {
        for (int node = 1; node <= processes.size(); node++) {
            Process p = processes.get(node - 1);
            if (!p.isAlive()) {
                throw new IllegalStateException("kafka node " + node + " exited with " + p.exitValue()
                        + "; last log lines:\n" + tail(nodeLog(node), 40));
            }
        }
    }

    @Override
    List<Process> brokerProcesses() {
        return List.copyOf(processes);
    }

    @Override
    long kill(int nodeId) {
        Process p = processes.get(nodeId - 1);
        long at = System.nanoTime();
        p.destroyForcibly(); // SIGKILL on Linux
        return at;
    }

    /** The active controller (the KRaft quorum's leader). */
    @Override
    OptionalInt controller() {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
            return OptionalInt.of(admin.describeMetadataQuorum().quorumInfo().get(10, TimeUnit.SECONDS).leaderId());
        } catch (Exception e) {
            return OptionalInt.empty();
        }
    }

    @Override
    LoadClient client() {
        return new KafkaLoadClient(bootstrap(), topics);
    }
}
