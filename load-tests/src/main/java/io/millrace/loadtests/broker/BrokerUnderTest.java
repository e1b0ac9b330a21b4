package io.millrace.loadtests.broker;

import io.millrace.common.LoopbackPorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A broker process, or a cluster of them, that one run of the load tests starts on free loopback ports with a fresh
 * data folder, measures, and stops by PID. A single broker keeps its process in {@link #process}; a cluster overrides
 * {@link #brokerProcesses()} (and {@link #otherProcesses()} for a ZooKeeper), and what is measured (CPU time, RSS,
 * quiet) is summed over its broker processes. Not thread-safe: the harness's main thread starts and stops it.
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

    /** Bootstrap servers (host:port,...) of the Kafka-protocol listeners: Kafka's own, or Millrace's Kafka gateway. */
    abstract String kafkaBootstrap();

    /** The broker's PID; of a cluster, its first broker's. */
    long pid() {
        return brokerProcesses().get(0).pid();
    }

    /** Every broker process started, killed ones too, in node order; one for a single broker. */
    List<Process> brokerProcesses() {
        return process == null ? List.of() : List.of(process);
    }

    /** Processes the brokers depend on but that are not brokers (a cluster's ZooKeeper); stopped last. */
    List<Process> otherProcesses() {
        return List.of();
    }

    /** Number of brokers (nodes). */
    int nodes() {
        return brokerProcesses().size();
    }

    /** SIGKILL to broker {@code nodeId} (a cluster's node id); returns {@link System#nanoTime()} just before it. */
    long kill(int nodeId) {
        throw new UnsupportedOperationException(system() + " under test is a single broker");
    }

    /** The node that is controller now, if the system says (for the failover report); empty when unknown. */
    OptionalInt controller() {
        return OptionalInt.empty();
    }

    /** Resident memory of the broker processes in bytes (summed over live ones), from /proc/&lt;pid&gt;/status. */
    OptionalLong residentBytes() {
        long sum = 0;
        boolean any = false;
        for (Process p : brokerProcesses()) {
            OptionalLong rss = residentBytes(p);
            if (rss.isPresent()) {
                sum += rss.getAsLong();
                any = true;
            }
        }
        return any ? OptionalLong.of(sum) : OptionalLong.empty();
    }

    /** Resident memory of one process in bytes (VmRSS), empty once it has exited. */
    static OptionalLong residentBytes(Process p) {
        if (!p.isAlive()) {
            return OptionalLong.empty();
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return OptionalLong.of(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
                }
            }
        } catch (IOException exitedMeanwhile) {
            // its memory is gone with it
        }
        return OptionalLong.empty();
    }

    /**
     * User plus system CPU time of the live broker processes, summed, in microseconds (from /proc, clock ticks of
     * 10 ms: measure over seconds, not milliseconds).
     */
    long brokerCpuMicros() {
        return cpuMicros(brokerProcesses());
    }

    /** The same for {@link #otherProcesses()} (a cluster's ZooKeeper). */
    long otherCpuMicros() {
        return cpuMicros(otherProcesses());
    }

    /** The same for this harness JVM (the clients). */
    static long harnessCpuMicros() {
        try {
            return cpuTicks(ProcessHandle.current().pid()) * (1_000_000 / CLOCK_TICKS_PER_SECOND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long cpuMicros(List<Process> processes) {
        long ticks = 0;
        for (Process p : processes) {
            try {
                ticks += p.isAlive() ? cpuTicks(p.pid()) : 0;
            } catch (IOException exitedMeanwhile) {
                // a process that just exited: its time is gone with it
            }
        }
        return ticks * (1_000_000 / CLOCK_TICKS_PER_SECOND);
    }

    /**
     * Waits until no partition folder of {@code topic} is left under the data folder ({@code topic-N}, and Kafka's
     * {@code topic-N.<id>-delete} while its deletion is pending), so that the deleted files' dirty pages are gone.
     */
    void awaitTopicFilesGone(String topic, long timeoutMs) throws IOException, InterruptedException {
        Pattern partitionFolder = Pattern.compile(Pattern.quote(topic) + "-\\d+([.].*)?");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            // Deep enough for a cluster's <root>/broker-N/<data>/topic-N.
            try (Stream<Path> files = Files.walk(dataDir, 5)) {
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
     * Waits (at most {@code timeoutMs}) until the broker(s) and this harness JVM together use less than a tenth of a
     * core (plus a twentieth per further broker: an idle cluster's replica long-polls and heartbeats), measured over
     * half a second, so that a measurement never starts while earlier work (JIT compilation, a rolled segment's
     * flush, a deleted topic's files) still takes one of this machine's two cores. Either system gets the same quiet
     * start.
     *
     * @return how long it waited, in milliseconds
     */
    long awaitQuiet(long timeoutMs) throws IOException, InterruptedException {
        long began = System.nanoTime();
        long deadline = began + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        long windowNanos = TimeUnit.MILLISECONDS.toNanos(500);
        double limit = 0.1 + 0.05 * Math.max(0, nodes() - 1);
        while (System.nanoTime() < deadline) {
            long before = brokerCpuMicros() + harnessCpuMicros();
            long start = System.nanoTime();
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(windowNanos));
            long used = brokerCpuMicros() + harnessCpuMicros() - before;
            double cores = used / 1e6 / ((System.nanoTime() - start) / 1e9);
            if (cores < limit) {
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

    /**
     * SIGTERM to every broker PID, then SIGKILL to those alive after 60 s; then the same for {@link #otherProcesses()};
     * deletes the data folder.
     */
    @Override
    public void close() throws Exception {
        stop(brokerProcesses());
        stop(otherProcesses());
        deleteTree(dataDir);
    }

    static void stop(List<Process> processes) throws InterruptedException {
        List<Process> alive = new ArrayList<>();
        for (Process p : processes) {
            if (p.isAlive()) {
                p.destroy();
                alive.add(p);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (Process p : alive) {
            long left = Math.max(0, deadline - System.nanoTime());
            if (!p.waitFor(left, TimeUnit.NANOSECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
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

    /** A loopback port below the kernel's ephemeral range: see {@link LoopbackPorts}. */
    static int freePort() {
        return LoopbackPorts.free();
    }
}
