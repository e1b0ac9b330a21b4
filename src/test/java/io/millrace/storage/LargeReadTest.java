package io.millrace.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ManualTime;
import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A read of many batches finds where it ends through the offset index instead of every batch header, and must still
 * return exactly what a batch-by-batch scan would: whole batches from the one holding the offset asked for, as many
 * as fit in the byte limit (at least one), none reaching the offset limit (the high watermark). Cutting such a read
 * shorter by offset, as a consumer's credit does, starts from the index entries copied at the read and must end where
 * a scan of the slice's batches would. Checked against such scans over batches of random sizes, for index entries at
 * every batch, every few batches and far apart.
 */
class LargeReadTest {

    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime();
    private final Random random = new Random(11);
    /** Each batch written, as [base offset, last offset, size in bytes], in offset order. */
    private final List<long[]> batches = new ArrayList<>();

    @ParameterizedTest(name = "index.interval.bytes {0}")
    @ValueSource(ints = {1, 3000, 40_000})
    void everyReadEndsWhereABatchByBatchScanEnds(int indexIntervalBytes) throws Exception {
        PartitionLog log = LogFixture.open(Files.createDirectories(dir.resolve("log-" + indexIntervalBytes)), time,
                Map.of(LogConfig.SEGMENT_BYTES, Integer.toString(64 * 1024 * 1024),
                        LogConfig.INDEX_INTERVAL_BYTES, Integer.toString(indexIntervalBytes)));
        try {
            append(log, 300);
            long logEnd = log.logEndOffset();
            int checked = 0;
            for (int i = 0; i < 3000; i++) {
                long offset = random.nextLong(logEnd);
                int maxBytes = switch (i % 3) {
                    case 0 -> 1 + random.nextInt(4096);
                    case 1 -> 1 + random.nextInt(64 * 1024);
                    default -> 1 + random.nextInt(1024 * 1024);
                };
                long offsetLimit = i % 4 == 0 ? logEnd : offset + 1 + random.nextLong(logEnd - offset);
                long[] expected = scan(offset, maxBytes, offsetLimit);
                LogSlice slice = log.read(offset, maxBytes, offsetLimit);
                String read = "read at " + offset + " of at most " + maxBytes + " bytes below offset " + offsetLimit;
                if (expected == null) {
                    assertThat(slice.isEmpty()).as(read).isTrue();
                    continue;
                }
                assertThat(slice.firstOffset()).as(read).isEqualTo(expected[0]);
                assertThat(slice.nextOffset()).as(read).isEqualTo(expected[1]);
                assertThat((long) slice.sizeInBytes()).as(read).isEqualTo(expected[2]);
                // A consumer's credit may end anywhere in the slice, or before it or past it.
                long creditLimit = slice.firstOffset() - 1
                        + random.nextLong(slice.nextOffset() - slice.firstOffset() + 3);
                LogSlice leading = slice.leadingBatchesBelow(creditLimit);
                long[] leadingExpected = leadingBatches(slice.firstOffset(), slice.nextOffset(), creditLimit);
                String cut = read + ", cut below offset " + creditLimit;
                assertThat(leading.position()).as(cut).isEqualTo(slice.position());
                assertThat(leading.firstOffset()).as(cut).isEqualTo(leadingExpected[0]);
                assertThat(leading.nextOffset()).as(cut).isEqualTo(leadingExpected[1]);
                assertThat((long) leading.sizeInBytes()).as(cut).isEqualTo(leadingExpected[2]);
                checked++;
            }
            assertThat(checked).as("reads that returned batches").isGreaterThan(2000);
        } finally {
            log.close();
        }
    }

    /**
     * What {@link LogSlice#leadingBatchesBelow} must return for a slice of the batches from {@code firstOffset} to
     * {@code nextOffset}: [first offset, next offset, bytes] of the first batch and each following one that starts
     * below {@code offsetLimit}.
     */
    private long[] leadingBatches(long firstOffset, long nextOffset, long offsetLimit) {
        int first = 0;
        while (batches.get(first)[0] != firstOffset) {
            first++;
        }
        long bytes = batches.get(first)[2];
        int last = first;
        while (last + 1 < batches.size() && batches.get(last + 1)[1] < nextOffset
                && batches.get(last + 1)[0] < offsetLimit) {
            last++;
            bytes += batches.get(last)[2];
        }
        return new long[] {firstOffset, batches.get(last)[1] + 1, bytes};
    }

    /** Batches of 1 to 8 records of 10 to 2,000 bytes each: from tens of bytes to about 16 KiB. */
    private void append(PartitionLog log, int count) {
        for (int b = 0; b < count; b++) {
            int records = 1 + random.nextInt(8);
            long base = log.logEndOffset();
            RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0);
            for (int r = 0; r < records; r++) {
                byte[] value = new byte[10 + random.nextInt(1991)];
                random.nextBytes(value);
                builder.append(time.milliseconds(), null, value);
            }
            RecordBatch batch = builder.build();
            int size = batch.sizeInBytes();
            log.appendAsLeader(batch, 0);
            batches.add(new long[] {base, base + records - 1, size});
            time.sleep(1);
        }
    }

    /**
     * What a read must return, from the batches as written: [first offset, next offset, bytes], or null for nothing.
     */
    private long[] scan(long offset, int maxBytes, long offsetLimit) {
        int first = 0;
        while (batches.get(first)[1] < offset) {
            first++;
        }
        if (batches.get(first)[1] >= offsetLimit) {
            return null;
        }
        long bytes = batches.get(first)[2];
        int last = first;
        while (last + 1 < batches.size() && batches.get(last + 1)[1] < offsetLimit
                && bytes + batches.get(last + 1)[2] <= maxBytes) {
            last++;
            bytes += batches.get(last)[2];
        }
        return new long[] {batches.get(first)[0], batches.get(last)[1] + 1, bytes};
    }
}
