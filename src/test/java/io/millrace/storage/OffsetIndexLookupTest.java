package io.millrace.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ManualTime;
import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.RecordBatches;
import io.millrace.record.TimestampType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offset index entries are keyed on the last offset of their batch, as Kafka keys them; every read, truncation and
 * search by timestamp must still land on the batch that holds the offset asked for, whichever of its offsets that is
 * (first, middle, last), in the first and the last batch of a segment, after a truncation and after a reopen.
 */
class OffsetIndexLookupTest {

    /** Small segments and an entry for every batch but a segment's first: every lookup goes through an entry. */
    private static final Map<String, String> CONFIG = Map.of(LogConfig.SEGMENT_BYTES, "2048",
            LogConfig.INDEX_INTERVAL_BYTES, "1");

    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime();
    private final Random random = new Random(7);
    /** Each batch written, as [base offset, last offset, timestamp], in offset order. */
    private final List<long[]> batches = new ArrayList<>();

    @Test
    void everyOffsetIsReadFromTheBatchHoldingIt() {
        PartitionLog log = LogFixture.open(dir, time, CONFIG);
        try {
            append(log, 60);
            assertThat(log.segmentCount()).as("several segments, each with several batches").isGreaterThan(3);
            assertEveryOffsetFound(log);
            assertIndexesKeyedOnLastOffsets();
        } finally {
            log.close();
        }
    }

    @Test
    void everyOffsetIsFoundAfterATruncationInsideABatchAndMoreAppends() {
        PartitionLog log = LogFixture.open(dir, time, CONFIG);
        try {
            append(log, 60);
            long[] straddled = batches.stream().filter(b -> b[1] - b[0] >= 2).skip(20).findFirst().orElseThrow();
            long middle = straddled[0] + 1;

            long end = log.truncateTo(middle);

            assertThat(end).as("the straddling batch goes whole").isEqualTo(straddled[0]);
            batches.removeIf(b -> b[0] >= straddled[0]);
            assertEveryOffsetFound(log);
            assertThat(log.read(end, 1).isEmpty()).isTrue();
            append(log, 20);
            assertEveryOffsetFound(log);
            log.flush();
            assertIndexesKeyedOnLastOffsets();
        } finally {
            log.close();
        }
    }

    @Test
    void everyOffsetIsFoundAfterAReopenAndAppendsContinueTheIndex() {
        PartitionLog log = LogFixture.open(dir, time, CONFIG);
        append(log, 40);
        log.close();

        PartitionLog reopened = LogFixture.open(dir, time, CONFIG);
        try {
            assertThat(reopened.recoveryReport().segmentsRecovered()).as("indexes trusted as written").isEmpty();
            assertThat(reopened.logEndOffset()).isEqualTo(batches.get(batches.size() - 1)[1] + 1);
            assertEveryOffsetFound(reopened);
            append(reopened, 20);
            assertEveryOffsetFound(reopened);
        } finally {
            reopened.close();
        }
        assertIndexesKeyedOnLastOffsets();
    }

    /** Appends batches of 1 to 5 records, one timestamp per batch, compressed or not. */
    private void append(PartitionLog log, int count) {
        CompressionType[] codecs = {CompressionType.NONE, CompressionType.GZIP, CompressionType.LZ4};
        for (int b = 0; b < count; b++) {
            int records = 1 + random.nextInt(5);
            long base = log.logEndOffset();
            long timestamp = time.milliseconds();
            RecordBatchBuilder builder = new RecordBatchBuilder(codecs[b % codecs.length], TimestampType.CREATE_TIME,
                    0);
            for (int i = 0; i < records; i++) {
                builder.append(timestamp, null, ("v-" + (base + i)).getBytes(StandardCharsets.UTF_8));
            }
            log.appendAsLeader(builder.build(), 0);
            batches.add(new long[] {base, base + records - 1, timestamp});
            time.sleep(10);
        }
    }

    /**
     * Reads one batch at every offset and checks it is the batch holding it, and searches every batch's timestamp.
     */
    private void assertEveryOffsetFound(PartitionLog log) {
        for (long[] batch : batches) {
            for (long offset = batch[0]; offset <= batch[1]; offset++) {
                LogSlice slice = log.read(offset, 1);
                assertThat(slice.firstOffset()).as("batch read at offset %d", offset).isEqualTo(batch[0]);
                assertThat(slice.nextOffset()).as("batch read at offset %d", offset).isEqualTo(batch[1] + 1);
                RecordBatch read = RecordBatches.split(slice.readFully()).get(0);
                assertThat(read.baseOffset()).isEqualTo(batch[0]);
            }
            assertThat(log.offsetForTimestamp(batch[2])).as("offset for timestamp %d", batch[2])
                    .hasValueSatisfying(found -> assertThat(found.offset()).isEqualTo(batch[0]));
        }
    }

    private void assertIndexesKeyedOnLastOffsets() {
        assertThat(LogFixture.assertOffsetIndexesKeyedOnLastOffsets(dir)).as("index entries checked")
                .isGreaterThan(20);
    }
}
