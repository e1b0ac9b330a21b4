package io.millrace.partition;

import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import java.nio.charset.StandardCharsets;

/** Record batches for the partition verticle's tests. */
final class TestBatches {

    private TestBatches() {
    }

    /** One uncompressed batch of records with these values, no keys, stamped now. */
    static RecordBatch of(String... values) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0);
        for (String v : values) {
            builder.append(System.currentTimeMillis(), null, v.getBytes(StandardCharsets.UTF_8));
        }
        return builder.build();
    }
}
