package io.millrace.storage;

import io.millrace.common.ManualTime;
import io.millrace.record.CompressionType;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.RecordBatches;
import io.millrace.record.TimestampType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.stream.Stream;

/** Builds batches and logs for storage tests. Flushes run on the calling thread, so tests stay deterministic. */
final class LogFixture {

    static final Executor DIRECT = Runnable::run;

    private LogFixture() {
    }

    /** A batch of {@code count} records whose values name their sequence number: "v-<first+i>". */
    static RecordBatch batch(int first, int count, long timestamp) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0);
        for (int i = 0; i < count; i++) {
            builder.append(timestamp, ("k-" + (first + i)).getBytes(StandardCharsets.UTF_8),
                    ("v-" + (first + i)).getBytes(StandardCharsets.UTF_8));
        }
        return builder.build();
    }

    static PartitionLog open(Path dir, ManualTime time, Map<String, String> config) {
        return PartitionLog.open(dir, LogConfig.from(config), time, DIRECT);
    }

    /** Appends {@code batches} batches of {@code perBatch} records; returns the values written, in order. */
    static List<String> fill(PartitionLog log, ManualTime time, int batches, int perBatch) {
        List<String> values = new ArrayList<>();
        int next = (int) log.logEndOffset();
        for (int b = 0; b < batches; b++) {
            log.appendAsLeader(batch(next, perBatch, time.milliseconds()), 0);
            for (int i = 0; i < perBatch; i++) {
                values.add("v-" + next++);
            }
            time.sleep(1);
        }
        return values;
    }

    /** Reads every record from {@code from} to the log end, through small reads that cross segments. */
    static List<Record> readAll(PartitionLog log, long from) {
        List<Record> out = new ArrayList<>();
        long offset = from;
        while (offset < log.logEndOffset()) {
            LogSlice slice = log.read(offset, 4096);
            if (slice.isEmpty()) {
                throw new AssertionError("Empty read at " + offset + " below log end " + log.logEndOffset());
            }
            for (RecordBatch batch : RecordBatches.split(slice.readFully())) {
                if (!batch.isValid()) {
                    throw new AssertionError("Read an invalid batch at " + batch.baseOffset());
                }
                for (Record record : batch.records()) {
                    if (record.offset() >= offset) {
                        out.add(record);
                    }
                }
            }
            offset = slice.nextOffset();
        }
        return out;
    }

    /**
     * Checks that each entry of every offset index in {@code dir} is keyed on the last offset of the batch starting at
     * its position, as Kafka keys it; returns the number of entries checked.
     */
    static int assertOffsetIndexesKeyedOnLastOffsets(Path dir) {
        int checked = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path index : files.filter(p -> p.toString().endsWith(OffsetIndex.SUFFIX)).sorted().toList()) {
                String base = index.getFileName().toString().replace(OffsetIndex.SUFFIX, "");
                ByteBuffer entries = ByteBuffer.wrap(Files.readAllBytes(index));
                ByteBuffer log = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(base + LogSegment.LOG_SUFFIX)));
                while (entries.remaining() >= 8) {
                    long key = Long.parseLong(base) + entries.getInt();
                    int position = entries.getInt();
                    if (position == 0) {
                        // The zeroed, pre-allocated tail of the active segment's index: a segment's first batch is
                        // never indexed, so no real entry points at position 0.
                        break;
                    }
                    long lastOffset = log.getLong(position)
                            + log.getInt(position + RecordBatch.LAST_OFFSET_DELTA_OFFSET);
                    if (key != lastOffset) {
                        throw new AssertionError("Entry " + key + " -> " + position + " of " + index
                                + " is not keyed on the last offset of the batch there, " + lastOffset);
                    }
                    checked++;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return checked;
    }

    static List<String> values(List<Record> records) {
        return records.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
    }
}
