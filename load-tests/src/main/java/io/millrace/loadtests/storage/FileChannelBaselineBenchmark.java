package io.millrace.loadtests.storage;

import io.millrace.record.RecordBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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

/**
 * The control for {@link AppendBenchmark}: the same batch bytes, the same count and the same fsync policies, written
 * with a bare {@link FileChannel#write(ByteBuffer, long)} from the heap buffer and {@link FileChannel#force(boolean)
 * force(false)}, the calls {@code LogSegment} makes, without any of Millrace (no validation, no indexes). What
 * separates this from dd is the JVM and NIO; what separates {@link AppendBenchmark} from this is Millrace.
 *
 * <p>JMH states are confined to the benchmark thread; nothing here is shared.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
public class FileChannelBaselineBenchmark {

    @Param("256")
    public int dataMiB;

    @Param({"never", "every-MiB", "every-batch"})
    public String fsync;

    private ByteBuffer bytes;
    private int batches;
    private long flushEveryBytes;
    private Path dir;
    private FileChannel channel;

    @Setup(Level.Trial)
    public void setUpTrial() {
        RecordBatch batch = StorageWorkload.batch();
        bytes = batch.buffer();
        batches = StorageWorkload.batchesFor(dataMiB, batch.sizeInBytes());
        flushEveryBytes = AppendBenchmark.flushEveryBytes(fsync);
    }

    @Setup(Level.Iteration)
    public void openFile() throws IOException {
        dir = StorageWorkload.freshDir("baseline-" + fsync + "-");
        channel = FileChannel.open(dir.resolve("00000000000000000000.log"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    @Benchmark
    public long write() throws IOException {
        long position = 0;
        long unflushed = 0;
        for (int i = 0; i < batches; i++) {
            ByteBuffer batch = bytes.duplicate();
            while (batch.hasRemaining()) {
                position += channel.write(batch, position);
            }
            unflushed += bytes.remaining();
            if (unflushed >= flushEveryBytes) {
                channel.force(false);
                unflushed = 0;
            }
        }
        if (unflushed > 0 && flushEveryBytes != Long.MAX_VALUE) {
            channel.force(false);
        }
        return position;
    }

    @TearDown(Level.Iteration)
    public void closeFile() throws IOException {
        channel.force(true);
        channel.close();
        StorageWorkload.deleteRecursively(dir);
    }
}
