package io.millrace.it;

import static org.awaitility.Awaitility.await;

import io.millrace.common.LoopbackPorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real broker process, started the way the README starts one ({@code bin/millrace start}), on free loopback
 * ports with its own data folder. {@link #kill()} sends SIGKILL, {@link #stop()} SIGTERM; {@link #close()} stops
 * the process if it still runs and deletes the data folder. A stand-alone broker ({@link #start}) embeds its own
 * ZooKeeper; {@link ClusterHarness} composes the command line of cluster members itself ({@link #prepare}).
 */
public final class BrokerProcess implements AutoCloseable {

    private static final Path HOME = Path.of(System.getProperty("millrace.home", ".")).toAbsolutePath();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final String name;
    private final Path dataDir;
    private final int httpPort;
    private final int tcpPort;
    private final int kafkaPort;
    private final int zookeeperPort;
    private final List<String> startArguments;
    private final String javaOpts;
    private Process process;
    private Path logFile;
    private int starts;

    private BrokerProcess(String name, Path dataDir, int httpPort, int tcpPort, int kafkaPort, int zookeeperPort,
                          List<String> startArguments, String javaOpts) {
        this.name = name;
        this.dataDir = dataDir;
        this.httpPort = httpPort;
        this.tcpPort = tcpPort;
        this.kafkaPort = kafkaPort;
        this.zookeeperPort = zookeeperPort;
        this.startArguments = List.copyOf(startArguments);
        this.javaOpts = javaOpts;
    }

    private static BrokerProcess standalone(String name, Map<String, String> overrides, String javaOpts) {
        try {
            return standalone(name, Files.createTempDirectory("millrace-it-" + name), overrides, javaOpts);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static BrokerProcess standalone(String name, Path dataDir, Map<String, String> overrides,
                                            String javaOpts) {
        int httpPort = freePort();
        int tcpPort = freePort();
        int kafkaPort = freePort();
        int zookeeperPort = freePort();
        List<String> arguments = new ArrayList<>(List.of("--data-dir", dataDir.toString(),
                "--http-port", Integer.toString(httpPort), "--tcp-port", Integer.toString(tcpPort),
                "--kafka-port", Integer.toString(kafkaPort),
                "--zookeeper-port", Integer.toString(zookeeperPort),
                "--set", "listen.host=127.0.0.1", "--set", "advertised.host=127.0.0.1"));
        new LinkedHashMap<>(overrides).forEach((k, v) -> {
            arguments.add("--set");
            arguments.add(k + "=" + v);
        });
        return new BrokerProcess(name, dataDir, httpPort, tcpPort, kafkaPort, zookeeperPort, arguments, javaOpts);
    }

    /**
     * A broker, not started yet, run as {@code bin/millrace start} followed by {@code startArguments}, which must
     * name {@code dataDir}, {@code httpPort}, {@code tcpPort} and {@code kafkaPort}. It uses an external ZooKeeper.
     */
    static BrokerProcess prepare(String name, Path dataDir, int httpPort, int tcpPort, int kafkaPort,
                                 List<String> startArguments) {
        return new BrokerProcess(name, dataDir, httpPort, tcpPort, kafkaPort, 0, startArguments, "");
    }

    /** Starts a broker and waits until {@code /health} answers 200. */
    public static BrokerProcess start(String name, Map<String, String> overrides) {
        return start(name, overrides, "");
    }

    public static BrokerProcess start(String name, Map<String, String> overrides, String javaOpts) {
        BrokerProcess broker = standalone(name, overrides, javaOpts);
        broker.launch();
        return broker;
    }

    /** A stand-alone broker on the data folder {@code dataDir}, not started yet: {@link #restart} starts it. */
    public static BrokerProcess create(String name, Path dataDir, Map<String, String> overrides) {
        return standalone(name, dataDir, overrides, "");
    }

    /**
     * Starts the process again on the same ports and data folder (after {@link #kill()} or {@link #stop()}), or for
     * the first time (after {@link #create}).
     */
    public void restart() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("Broker " + name + " is still running");
        }
        launch();
    }

    private void launch() {
        spawn();
        awaitHealthy(Duration.ofSeconds(60));
    }

    /** Starts the process without waiting for it; {@link #awaitHealthy} waits. */
    void spawn() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("Broker " + name + " is still running");
        }
        List<String> command = new ArrayList<>(List.of(HOME.resolve("bin/millrace").toString(), "start"));
        command.addAll(startArguments);
        try {
            Path logs = HOME.resolve("target/it-logs");
            Files.createDirectories(logs);
            logFile = logs.resolve(name + "-" + (++starts) + ".log");
            ProcessBuilder builder = new ProcessBuilder(command).directory(HOME.toFile())
                    .redirectErrorStream(true).redirectOutput(logFile.toFile());
            builder.environment().put("MILLRACE_JAVA_OPTS", javaOpts);
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until {@code /health} answers 200; fails at once, with the log, if the process exits. */
    public void awaitHealthy(Duration atMost) {
        await().alias("broker " + name + " healthy (log " + logFile + ")").atMost(atMost)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("Broker " + name + " exited with " + process.exitValue()
                                + "; log: " + Files.readString(logFile));
                    }
                    return healthStatus() == 200;
                });
    }

    /** The HTTP status of {@code /health}, or -1 if the broker does not answer. */
    public int healthStatus() {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/health")).timeout(Duration.ofSeconds(2))
                    .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** SIGKILL: the process dies at once, with no flush and no clean shutdown. */
    public void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        waitForExit();
    }

    /** SIGTERM: a clean shutdown. */
    public void stop() {
        process.destroy();
        waitForExit();
    }

    private void waitForExit() {
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException("Broker " + name + " did not exit within 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    public int exitValue() {
        return process.exitValue();
    }

    /** Waits for the process to exit by itself; returns its exit status, or fails with the log if it still runs. */
    public int awaitExit(Duration atMost) throws IOException, InterruptedException {
        if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("Broker " + name + " still runs after " + atMost + "; log: "
                    + Files.readString(logFile));
        }
        return process.exitValue();
    }

    public int httpPort() {
        return httpPort;
    }

    public int tcpPort() {
        return tcpPort;
    }

    /** The Kafka listener's port ({@code kafka.port}). */
    public int kafkaPort() {
        return kafkaPort;
    }

    /** Client port of this broker's embedded ZooKeeper (meaningless when it uses an external one). */
    public int zookeeperPort() {
        return zookeeperPort;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + httpPort;
    }

    public URI webSocketUri() {
        return URI.create("ws://127.0.0.1:" + httpPort + "/ws");
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return logFile;
    }

    /** Resident memory of the broker process in bytes, from /proc. */
    public long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("No VmRSS for " + pid());
    }

    @Override
    public void close() {
        if (process != null) {
            // bin/millrace execs java, but a process killed before that (while it builds) may have children.
            process.descendants().forEach(ProcessHandle::destroyForcibly);
        }
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            waitForExit();
        }
        if (!Files.exists(dataDir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String name() {
        return name;
    }

    /**
     * A port free now, below the kernel's ephemeral range, and never handed out before in this JVM
     * ({@link LoopbackPorts#free()}): a broker given one port as both its HTTP and TCP port starts anyway (Vert.x shares
     * one listening socket between its servers on a port), so that HTTP requests then reach the TCP gateway.
     */
    public static int freePort() {
        return LoopbackPorts.free();
    }
}
