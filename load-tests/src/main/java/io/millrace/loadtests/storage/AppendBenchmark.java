package io.millrace.loadtests.storage;

import io.millrace.record.RecordBatch;
import io.millrace.storage.PartitionLog;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import java.util.ArrayList;
import java.util.List;

/**
 * Append throughput of {@link PartitionLog#appendAsLeader}: one invocation appends {@code dataMiB} MiB of ~16 KiB
 * batches to a new, empty log, the way {@code dd if=/dev/zero of=F bs=16k count=N} writes a new file, and the score is
 * the wall time of that one invocation ({@link Mode#SingleShotTime}); MiB/s is {@code dataMiB} divided by it.
 *
 * <p>{@code fsync} says when the invocation calls {@link PartitionLog#flush()} (a blocking fsync of everything
 * appended), always inside the timed region:
 * <ul>
 *   <li>{@code never}: not at all; the data is in the page cache when the clock stops, as with plain {@code dd}.
 *   Closing the log fsyncs it afterwards, untimed, so each iteration starts with the disk idle.</li>
 *   <li>{@code every-MiB}: each time at least 1 MiB has been appended since the last flush, and once at the end:
 *   compare with {@code dd bs=1M oflag=dsync} and {@code dd conv=fdatasync}.</li>
 *   <li>{@code every-batch}: after every batch: compare with {@code dd bs=16k oflag=dsync}.</li>
 * </ul>
 *
 * <p>JMH states are confined to the benchmark thread, so nothing here is shared between threads except the log's
 * flush executor, which only a segment roll uses (past 1 GiB, with the default config); flushes here are synchronous.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
public class AppendBenchmark {

    /** Data appended per invocation; the same size dd writes in storage-bench.sh. */
    @Param("256")
    public int dataMiB;

    @Param({"never", "every-MiB", "every-batch"})
    public String fsync;

    /**
     * Batches handed to one {@link PartitionLog#appendAsLeader(List, int)} call, which writes them with one system
     * call: 1 is a batch per write (as Kafka's log writes); 16 is what the partition verticle's group commit hands
     * over when produce requests queue up under load (see PartitionVerticle.appendQueued); 64 batches is 1 MiB, a
     * whole flush interval of the every-MiB policy in one write.
     */
    @Param({"1", "16", "64"})
    public int batchesPerAppend;

    private ExecutorService flushExecutor;
    private RecordBatch batch;
    private final java.util.Map<Integer, List<RecordBatch>> groups = new java.util.HashMap<>();
    private int batches;
    private long flushEveryBytes;
    private PartitionLog log;

    @Setup(Level.Trial)
    public void setUpTrial() {
        flushExecutor = Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-log-flush"));
        batch = StorageWorkload.batch();
        batches = StorageWorkload.batchesFor(dataMiB, batch.sizeInBytes());
        flushEveryBytes = flushEveryBytes(fsync);
        // Distinct copies: an append rewrites offsets in each batch's own buffer, so a group must not share one.
        for (int size = 1; size <= batchesPerAppend; size++) {
            List<RecordBatch> group = new ArrayList<>(size);
            for (int j = 0; j < size; j++) {
                group.add(StorageWorkload.batch());
            }
            groups.put(size, group);
        }
    }

    /** Bytes appended between two flushes under the given policy; {@link Long#MAX_VALUE} for never. */
    static long flushEveryBytes(String fsync) {
        return switch (fsync) {
            case "never" -> Long.MAX_VALUE;
            case "every-MiB" -> StorageWorkload.MIB;
            case "every-batch" -> 1;
            default -> throw new IllegalArgumentException("Unknown fsync policy " + fsync);
        };
    }

    @Setup(Level.Iteration)
    public void openLog() {
        log = StorageWorkload.openFreshLog("append-" + fsync + "-", flushExecutor);
    }

    @Benchmark
    public long append() {
        long unflushed = 0;
        for (int i = 0; i < batches; i += batchesPerAppend) {
            List<RecordBatch> group = groups.get(Math.min(batchesPerAppend, batches - i));
            if (group.size() == 1) {
                log.appendAsLeader(group.get(0), 0);
            } else {
                log.appendAsLeader(group, 0);
            }
            unflushed += (long) group.size() * batch.sizeInBytes();
            if (unflushed >= flushEveryBytes) {
                log.flush();
                unflushed = 0;
            }
        }
        if (unflushed > 0 && flushEveryBytes != Long.MAX_VALUE) {
            log.flush();
        }
        return log.logEndOffset();
    }

    @TearDown(Level.Iteration)
    public void closeLog() {
        long expected = (long) batches * batch.sizeInBytes();
        if (log.size() != expected) {
            throw new IllegalStateException("The log holds " + log.size() + " bytes, expected " + expected);
        }
        StorageWorkload.closeAndDelete(log);
    }

    @TearDown(Level.Trial)
    public void tearDownTrial() {
        flushExecutor.shutdown();
    }
}
