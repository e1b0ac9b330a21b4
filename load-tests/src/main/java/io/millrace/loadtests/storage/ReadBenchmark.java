package io.millrace.loadtests.storage;

import io.millrace.record.RecordBatch;
import io.millrace.storage.LogSlice;
import io.millrace.storage.PartitionLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Sequential read throughput of {@link PartitionLog#read}: one invocation reads the whole log, {@code dataMiB} MiB
 * written once per trial, from its start to its end in reads of at most {@value #READ_BYTES} bytes (whole batches), and
 * the score is the wall time of that one invocation ({@link Mode#SingleShotTime}). The log was just written, so it is
 * in the page cache, as the file is for {@code dd if=F of=/dev/null bs=1M} in storage-bench.sh.
 *
 * <ul>
 *   <li>{@link #readCopying}: {@link LogSlice#readFully()}, a new heap buffer per read (what a reader that looks inside
 *   the batches gets).</li>
 *   <li>{@link #readZeroCopy}: {@link LogSlice#transferTo} into a channel on {@code /dev/null}: sendfile, the path a
 *   fetch response to a consumer takes. No bytes reach user space, so it can beat dd, which copies them.</li>
 * </ul>
 *
 * <p>JMH states are confined to the benchmark thread; nothing here is shared.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 10)
// Pre-touching the heap keeps the first-touch page faults of a fresh heap out of the first ~1 GiB of 1 MiB buffers
// allocated; without it the first few iterations read at a tenth of the speed of the rest.
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
public class ReadBenchmark {

    static final int READ_BYTES = 1 << 20;

    /** Size of the log read per invocation; the same size dd reads in storage-bench.sh. */
    @Param("256")
    public int dataMiB;

    private ExecutorService flushExecutor;
    private PartitionLog log;
    private long expectedBytes;
    private FileChannel devNull;

    @Setup(Level.Trial)
    public void writeLog() throws IOException {
        flushExecutor = Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-log-flush"));
        log = StorageWorkload.openFreshLog("read-", flushExecutor);
        RecordBatch batch = StorageWorkload.batch();
        int batches = StorageWorkload.batchesFor(dataMiB, batch.sizeInBytes());
        for (int i = 0; i < batches; i++) {
            log.appendAsLeader(batch, 0);
        }
        log.flush();
        expectedBytes = log.size();
        devNull = FileChannel.open(Path.of("/dev/null"), StandardOpenOption.WRITE);
    }

    @Benchmark
    public long readCopying(Blackhole blackhole) {
        long offset = log.logStartOffset();
        long end = log.logEndOffset();
        long bytes = 0;
        while (offset < end) {
            LogSlice slice = log.read(offset, READ_BYTES);
            ByteBuffer copy = slice.readFully();
            blackhole.consume(copy);
            bytes += copy.remaining();
            offset = slice.nextOffset();
        }
        return checkRead(bytes);
    }

    @Benchmark
    public long readZeroCopy() throws IOException {
        long offset = log.logStartOffset();
        long end = log.logEndOffset();
        long bytes = 0;
        while (offset < end) {
            LogSlice slice = log.read(offset, READ_BYTES);
            bytes += slice.transferTo(devNull);
            offset = slice.nextOffset();
        }
        return checkRead(bytes);
    }

    private long checkRead(long bytes) {
        if (bytes != expectedBytes) {
            throw new IllegalStateException("Read " + bytes + " bytes of a " + expectedBytes + "-byte log");
        }
        return bytes;
    }

    @TearDown(Level.Trial)
    public void deleteLog() throws IOException {
        devNull.close();
        StorageWorkload.closeAndDelete(log);
        flushExecutor.shutdown();
    }
}
