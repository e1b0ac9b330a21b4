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

    /** The unit of CPU times in /proc (USER_HZ), 100 on Linux. */
    private static final long CLOCK_TICKS_PER_SECOND = 100;

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

    /**
     * Waits (at most {@code timeoutMs}) until both the broker and this harness JVM use less than a tenth of a core,
     * measured over half a second, so that a measurement never starts while earlier work (JIT compilation, a rolled
     * segment's flush, a deleted topic's files) still takes one of this machine's two cores. Either system gets the
     * same quiet start.
     *
     * @return how long it waited, in milliseconds
     */
    long awaitQuiet(long timeoutMs) throws IOException, InterruptedException {
        long began = System.nanoTime();
        long deadline = began + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        long windowNanos = TimeUnit.MILLISECONDS.toNanos(500);
        while (System.nanoTime() < deadline) {
            long before = cpuTicks(pid()) + cpuTicks(ProcessHandle.current().pid());
            long start = System.nanoTime();
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(windowNanos));
            long used = cpuTicks(pid()) + cpuTicks(ProcessHandle.current().pid()) - before;
            double cores = used / (double) CLOCK_TICKS_PER_SECOND / ((System.nanoTime() - start) / 1e9);
            if (cores < 0.1) {
                break;
            }
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
    }

    /** User plus system CPU time of a process in clock ticks (fields 14 and 15 of /proc/&lt;pid&gt;/stat). */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
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
