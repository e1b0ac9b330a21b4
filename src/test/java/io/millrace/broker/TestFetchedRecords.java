package io.millrace.broker;

import io.millrace.common.ManualTime;
import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import io.millrace.storage.LogConfig;
import io.millrace.storage.LogSlice;
import io.millrace.storage.PartitionLog;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/**
 * For tests of front-ends: both forms of {@link FetchedRecords} over the same batches. The file form is what the broker
 * creates from a local read (only the broker may, in production); the memory form is what it builds from bytes another
 * broker sent, here a copy of a slice the test read from a log of its own.
 */
public final class TestFetchedRecords {

    private TestFetchedRecords() {
    }

    /** The slice as the broker hands out a local read: a segment file region. */
    public static FetchedRecords fileRegion(LogSlice slice) {
        return new SegmentRegion(slice);
    }

    /** The slice's batches copied into memory, with its offsets: as batches from another broker arrive. */
    public static FetchedRecords inMemory(LogSlice slice) {
        return FetchedRecords.of(Buffer.buffer(bytes(slice.readFully())), slice.firstOffset(), slice.nextOffset());
    }

    /**
     * A log in {@code dir} holding {@code batches} uncompressed batches of {@code recordsPerBatch} records each, whose
     * values are {@code valueBytes} seeded random bytes (the seed is the batch's index). The caller closes it.
     */
    public static PartitionLog log(Path dir, int batches, int recordsPerBatch, int valueBytes) {
        ManualTime time = new ManualTime();
        PartitionLog log = PartitionLog.open(dir, LogConfig.from(Map.of()), time, Runnable::run);
        for (int b = 0; b < batches; b++) {
            Random random = new Random(b);
            RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0);
            for (int r = 0; r < recordsPerBatch; r++) {
                byte[] value = new byte[valueBytes];
                random.nextBytes(value);
                builder.append(time.milliseconds(), null, value);
            }
            log.appendAsLeader(builder.build(), 0);
        }
        return log;
    }

    /** The bytes from position to limit, without moving them. */
    public static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }
}
