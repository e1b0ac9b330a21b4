package io.millrace.loadtests.storage;

import io.millrace.common.Time;
import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import io.millrace.storage.LogConfig;
import io.millrace.storage.PartitionLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.Executor;
import java.util.stream.Stream;

/**
 * What the storage benchmarks write, and where: batches of {@value #RECORDS_PER_BATCH} records with
 * {@value #RECORD_BYTES}-byte values and no key (about 16.2 KiB a batch), appended until the log holds the data size
 * under test, in fresh log directories under {@code -Dmillrace.bench.dir} (default {@code target/bench-data}, relative
 * to the working directory). That directory must be on the disk being measured, not on a tmpfs.
 *
 * <p>Stateless; every method may be called from any thread.
 */
final class StorageWorkload {

    static final int RECORD_BYTES = 1024;
    static final int RECORDS_PER_BATCH = 16;
    static final long MIB = 1L << 20;
    static final String DIR_PROPERTY = "millrace.bench.dir";

    private StorageWorkload() {
    }

    /** Prints the size in bytes of the batch the benchmarks append, so that storage-bench.sh can give dd the same. */
    public static void main(String[] args) {
        System.out.println(batch().sizeInBytes());
    }

    /**
     * Builds the batch every benchmark appends. Values are random (seeded), so nothing along the way can profit from
     * zeros. {@link PartitionLog#appendAsLeader} rewrites the offsets in place, so the one batch is appended again
     * and again.
     */
    static RecordBatch batch() {
        Random random = new Random(42);
        long now = System.currentTimeMillis();
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0);
        for (int i = 0; i < RECORDS_PER_BATCH; i++) {
            byte[] value = new byte[RECORD_BYTES];
            random.nextBytes(value);
            builder.append(now, null, value);
        }
        return builder.build();
    }

    /**
     * How many batches of {@code batchBytes} make up {@code dataMiB} MiB, rounded up: the log ends up at most one batch
     * (0.006 % of 256 MiB) larger than the nominal size that the MB/s figures are computed from.
     */
    static int batchesFor(int dataMiB, int batchBytes) {
        return (int) ((dataMiB * MIB + batchBytes - 1) / batchBytes);
    }

    /** Opens a partition log with the broker's default config in a new, empty directory. */
    static PartitionLog openFreshLog(String prefix, Executor flushExecutor) {
        return PartitionLog.open(freshDir(prefix), LogConfig.DEFAULTS, Time.SYSTEM, flushExecutor);
    }

    /** Closes the log (which fsyncs what is left) and deletes its directory. */
    static void closeAndDelete(PartitionLog log) {
        Path dir = log.dir();
        log.close();
        deleteRecursively(dir);
    }

    /** A new, empty directory under the benchmark root. */
    static Path freshDir(String prefix) {
        Path root = Path.of(System.getProperty(DIR_PROPERTY, "target/bench-data"));
        try {
            Files.createDirectories(root);
            return Files.createTempDirectory(root, prefix);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create a benchmark directory under " + root.toAbsolutePath(), e);
        }
    }

    /** Deletes {@code dir} and everything in it. */
    static void deleteRecursively(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot delete benchmark directory " + dir, e);
        }
    }
}
