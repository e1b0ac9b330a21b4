package io.millrace.loadtests.broker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed, bounded CPU burner ({@code --background-load}): a process of its own, not a thread of the harness or of a
 * broker, so that its CPU time shows in neither's figures. Each of its threads takes {@code duty} of every
 * {@value #PERIOD_MS} ms period in CPU time and sleeps for the rest, so it takes at most {@code threads × duty}
 * cores, and that much whenever the scheduler lets it.
 * The harness starts one around every scenario of every system alike and stops it by PID; its own CPU time (from
 * /proc) goes into the scenario's figures, so a reader sees that both systems were measured under the same
 * contention.
 *
 * <p>{@link #main} is the burner; {@link #start} launches it from the harness.
 */
final class BackgroundLoad implements AutoCloseable {

    /** Period of the duty cycle: short enough that every scheduler tick of the measured processes sees it. */
    static final long PERIOD_MS = 10;
    /** The line the burner prints once its threads spin, so that its JVM start is not counted. */
    private static final String READY = "burning";

    private final Process process;
    private final double duty;
    private final int threads;
    private final long cpuAtStart;
    private final long nanosAtStart;

    private BackgroundLoad(Process process, double duty, int threads) {
        this.process = process;
        this.duty = duty;
        this.threads = threads;
        this.cpuAtStart = cpuMicros();
        this.nanosAtStart = System.nanoTime();
    }

    /** The burner: {@code BackgroundLoad DUTY THREADS}, until it is killed. */
    public static void main(String[] args) {
        double duty = Double.parseDouble(args[0]);
        int threads = Integer.parseInt(args[1]);
        long periodNanos = TimeUnit.MILLISECONDS.toNanos(PERIOD_MS);
        long busyNanos = (long) (periodNanos * duty);
        for (int t = 0; t < threads; t++) {
            Thread burner = new Thread(() -> burn(periodNanos, busyNanos), "burner-" + t);
            burner.start();
        }
        System.out.println(READY);
        System.out.flush();
    }

    /**
     * Spins until this thread has had {@code busyNanos} of CPU time in the current period (or the period is over),
     * then sleeps to the period's end. Counting CPU time rather than wall time keeps the load at its duty on a
     * machine where the scheduler takes the burner off its core now and then; it never takes more.
     */
    private static void burn(long periodNanos, long busyNanos) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long periodStart = System.nanoTime();
        while (true) {
            long periodEnd = periodStart + periodNanos;
            long cpuUntil = threads.getCurrentThreadCpuTime() + busyNanos;
            while (threads.getCurrentThreadCpuTime() < cpuUntil && System.nanoTime() < periodEnd) {
                Thread.onSpinWait();
            }
            long now = System.nanoTime();
            if (periodEnd > now) {
                LockSupport.parkNanos(periodEnd - now);
                periodStart = periodEnd;
            } else {
                // Descheduled past the period's end: start afresh rather than spin to catch up.
                periodStart = now;
            }
        }
    }

    /**
     * Starts the burner with the harness's own {@code java}, a small heap and the client compiler only (it needs no
     * more), and returns once its threads spin.
     */
    static BackgroundLoad start(double duty, int threads) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classes;
        try {
            classes = Path.of(BackgroundLoad.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        Process process = new ProcessBuilder(List.of(java, "-Xms16m", "-Xmx16m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", classes, BackgroundLoad.class.getName(), Double.toString(duty),
                Integer.toString(threads))).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.US_ASCII));
        String line = out.readLine();
        if (!READY.equals(line)) {
            process.destroyForcibly();
            throw new IllegalStateException("background load did not start: " + line);
        }
        return new BackgroundLoad(process, duty, threads);
    }

    /** Starts the burner if {@code --background-load} is on; else null (a try-with-resources takes null). */
    static BackgroundLoad startIf(LoadTest.Options o) throws IOException {
        return o.backgroundLoad() ? start(o.backgroundLoadDuty(), o.backgroundLoadThreads()) : null;
    }

    /** The burner's user plus system CPU time so far, in microseconds. */
    long cpuMicros() {
        return BrokerUnderTest.cpuMicros(List.of(process));
    }

    /**
     * Adds the burner's settings and what it actually took since it started spinning: {@code background_load_cores}
     * (CPU seconds per second) and {@code background_load_cpu_s}.
     */
    void recordInto(ScenarioResult r) {
        long cpu = cpuMicros() - cpuAtStart;
        double seconds = (System.nanoTime() - nanosAtStart) / 1e9;
        r.metric("background_load_duty", duty).metric("background_load_threads", threads)
                .metric("background_load_cpu_s", cpu / 1e6).metric("background_load_cores", cpu / 1e6 / seconds);
    }

    /** SIGTERM to the burner's PID (SIGKILL after 10 s); a burner never holds anything worth a clean stop. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
