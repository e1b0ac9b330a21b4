package io.millrace.loadtests.broker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * An Apache Kafka 4.x broker in KRaft mode (one process, broker and controller) run from the {@code kafka_2.13}
 * jars on this module's class path, in its own JVM: storage is formatted with {@code kafka.tools.StorageTool}, then
 * {@code kafka.Kafka} runs a generated {@code server.properties}, with the JVM options of Kafka's own start script.
 */
final class KafkaBroker extends BrokerUnderTest {

    /** kafka-server-start.sh's heap and kafka-run-class.sh's performance options. */
    static final List<String> KAFKA_JVM_OPTS = List.of("-Xmx1G", "-Xms1G", "-server", "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
            "-XX:MaxInlineLevel=15", "-Djava.awt.headless=true");

    private final String classPath;
    private final String extraJavaOpts;
    private final String logbackConfig = System.getProperty("logback.configurationFile", "");
    private final int port = freePort();
    private final int controllerPort = freePort();

    KafkaBroker(String classPath, Path dataDir, Path logFile, String extraJavaOpts) {
        super(dataDir, logFile);
        this.classPath = classPath;
        this.extraJavaOpts = extraJavaOpts;
    }

    @Override
    String system() {
        return "kafka";
    }

    String bootstrap() {
        return "127.0.0.1:" + port;
    }

    @Override
    void start() throws Exception {
        Path logs = dataDir.resolve("logs");
        Files.createDirectories(logs);
        Path config = dataDir.resolve("server.properties");
        Files.writeString(config, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + logs,
                "num.partitions=1",
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                // A deleted topic's files go after file.delete.delay.ms (default 60 s), and the task that deletes
                // them first runs log.initial.task.delay.ms after start (30 s); the harness waits for them to go.
                "file.delete.delay.ms=500",
                "log.initial.task.delay.ms=0",
                "") );
        List<String> format = java("kafka.tools.StorageTool", "format", "-t", Uuid.randomUuid().toString(),
                "-c", config.toString());
        Process formatting = new ProcessBuilder(format).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
        if (!formatting.waitFor(120, TimeUnit.SECONDS) || formatting.exitValue() != 0) {
            throw new IllegalStateException("kafka storage format failed; log: " + tail(logFile, 40));
        }
        process = new ProcessBuilder(java("kafka.Kafka", config.toString())).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                3000))) {
            while (true) {
                ensureAlive();
                try {
                    if (!admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty()) {
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
    LoadClient client() {
        return new KafkaLoadClient(bootstrap());
    }
}
