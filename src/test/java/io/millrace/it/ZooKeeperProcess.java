package io.millrace.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real stand-alone ZooKeeper process ({@code bin/millrace zookeeper}) on a free loopback port with its own data
 * folder, as {@code bin/local-cluster} starts one. {@link #close()} kills it (SIGKILL) and deletes the folder.
 */
public final class ZooKeeperProcess implements AutoCloseable {

    /** The tick bin/local-cluster gives its ZooKeeper: brokers may then ask for sessions from 1 s. */
    public static final int TICK_TIME_MS = 500;

    private static final Path HOME = Path.of(System.getProperty("millrace.home", ".")).toAbsolutePath();
    private static final Pattern READY = Pattern.compile("ZooKeeper ready at (\\S+)");

    private final Path dataDir;
    private final int port;
    private final Path logFile;
    private final Process process;

    private ZooKeeperProcess(Path dataDir, int port, Path logFile, Process process) {
        this.dataDir = dataDir;
        this.port = port;
        this.logFile = logFile;
        this.process = process;
    }

    /**
     * Starts a ZooKeeper and waits for its ready line. The first {@code bin/millrace} run after a build also trains
     * the class-data archive, so this is the process to start before any broker.
     */
    public static ZooKeeperProcess start(String name) {
        int port = BrokerProcess.freePort();
        Path dataDir;
        Path logFile;
        Process process;
        try {
            dataDir = Files.createTempDirectory("millrace-it-" + name);
            Path logs = HOME.resolve("target/it-logs");
            Files.createDirectories(logs);
            logFile = logs.resolve(name + "-" + port + ".log");
            ProcessBuilder builder = new ProcessBuilder(List.of(HOME.resolve("bin/millrace").toString(), "zookeeper",
                    "--port", Integer.toString(port), "--host", "127.0.0.1", "--data-dir", dataDir.toString(),
                    "--tick-time-ms", Integer.toString(TICK_TIME_MS)))
                    .directory(HOME.toFile()).redirectErrorStream(true).redirectOutput(logFile.toFile());
            builder.environment().put("MILLRACE_HEAP_OPTS", "-Xmx128m");
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ZooKeeperProcess zookeeper = new ZooKeeperProcess(dataDir, port, logFile, process);
        try {
            zookeeper.awaitReady();
        } catch (RuntimeException | Error e) {
            zookeeper.close();
            throw e;
        }
        return zookeeper;
    }

    private void awaitReady() {
        await().alias("ZooKeeper ready line in " + logFile).atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    String log = Files.readString(logFile);
                    if (!process.isAlive()) {
                        throw new IllegalStateException("ZooKeeper exited with " + process.exitValue() + "; log: "
                                + log);
                    }
                    Matcher ready = READY.matcher(log);
                    if (!ready.find()) {
                        return false;
                    }
                    if (!ready.group(1).equals(connectString())) {
                        throw new IllegalStateException("ZooKeeper is ready at " + ready.group(1) + ", not at "
                                + connectString());
                    }
                    return true;
                });
    }

    /** {@code 127.0.0.1:port}, as brokers are given it with {@code --zookeeper}. */
    public String connectString() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path logFile() {
        return logFile;
    }

    /** SIGKILL, then waits for the process to be gone. */
    public void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("ZooKeeper " + pid() + " still runs 30 s after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        kill();
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
