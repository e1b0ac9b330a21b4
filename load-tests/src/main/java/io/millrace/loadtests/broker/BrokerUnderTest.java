package io.millrace.loadtests.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A broker process that one run of the load tests starts on free loopback ports with a fresh data folder, measures,
 * and stops by PID. Not thread-safe: the harness's main thread starts and stops it.
 */
abstract class BrokerUnderTest implements AutoCloseable {

    protected final Path dataDir;
    protected final Path logFile;
    protected Process process;

    BrokerUnderTest(Path dataDir, Path logFile) {
        this.dataDir = dataDir;
        this.logFile = logFile;
    }

    /** "millrace" or "kafka". */
    abstract String system();

    /** Starts the process and returns once it serves requests. */
    abstract void start() throws Exception;

    /** A client of this broker's own native kind. */
    abstract LoadClient client();

    long pid() {
        return process.pid();
    }

    /** Resident memory of the broker process in bytes, from /proc/&lt;pid&gt;/status. */
    OptionalLong residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return OptionalLong.of(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
                }
            }
        } catch (IOException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }

    /**
     * Waits until no partition folder of {@code topic} is left under the data folder ({@code topic-N}, and Kafka's
     * {@code topic-N.<id>-delete} while its deletion is pending), so that the deleted files' dirty pages are gone.
     */
    void awaitTopicFilesGone(String topic, long timeoutMs) throws IOException, InterruptedException {
        Pattern partitionFolder = Pattern.compile(Pattern.quote(topic) + "-\\d+([.].*)?");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            try (Stream<Path> files = Files.walk(dataDir, 3)) {
                if (files.noneMatch(p -> Files.isDirectory(p)
                        && partitionFolder.matcher(p.getFileName().toString()).matches())) {
                    return;
                }
            } catch (UncheckedIOException e) {
                // A folder vanished while it was listed: look again.
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(system() + " still has files of deleted topic " + topic + " after "
                        + timeoutMs + " ms");
            }
            Thread.sleep(50);
        }
    }

    protected void ensureAlive() throws IOException {
        if (!process.isAlive()) {
            throw new IllegalStateException(system() + " exited with " + process.exitValue() + "; last log lines:\n"
                    + tail(logFile, 40));
        }
    }

    /** SIGTERM to the PID, then SIGKILL after 60 s; deletes the data folder. */
    @Override
    public void close() throws Exception {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        deleteTree(dataDir);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static String tail(Path file, int lines) throws IOException {
        if (!Files.exists(file)) {
            return "(no log)";
        }
        var all = Files.readAllLines(file);
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
