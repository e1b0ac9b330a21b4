package io.millrace.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ManualTime;
import io.millrace.common.TopicPartition;
import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.RecordBatches;
import io.millrace.record.TimestampType;
import io.millrace.storage.LogConfig;
import io.millrace.storage.PartitionLog;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A fetch result handed to many subscribers: its region is read from the file once, each reader gets its own view. */
class FetchResultTest {

    private static final TopicPartition TP = new TopicPartition("t", 0);

    @TempDir
    Path dir;

    @Test
    void theRegionIsReadOnceAndEachCallGetsItsOwnReadOnlyView() {
        ManualTime time = new ManualTime();
        PartitionLog log = PartitionLog.open(dir, LogConfig.from(Map.of()), time, Runnable::run);
        log.appendAsLeader(new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0)
                .append(time.milliseconds(), null, "a".getBytes(StandardCharsets.UTF_8))
                .append(time.milliseconds(), null, "b".getBytes(StandardCharsets.UTF_8)).build(), 0);
        FetchResult result = new FetchResult(TP, TestFetchedRecords.fileRegion(log.read(0, 1 << 20)), 2, 0, 2);
        int size = result.records().sizeInBytes();

        ByteBuffer first = result.readRecords();
        log.close();
        ByteBuffer second = result.readRecords();

        assertThatThrownBy(() -> result.records().readFully()).as("the file is closed").isInstanceOf(Exception.class);
        assertThat(second).isNotSameAs(first);
        first.get(new byte[size]);
        assertThat(first.hasRemaining()).isFalse();
        assertThat(second.position()).isZero();
        assertThat(second.limit()).isEqualTo(size);
        assertThat(second.isReadOnly()).isTrue();
        assertThatThrownBy(() -> second.put(0, (byte) 1)).isInstanceOf(ReadOnlyBufferException.class);
        assertThat(RecordBatches.split(second).get(0).records()).hasSize(2);
    }

    @Test
    void anEmptyReadIsAnEmptyBuffer() {
        PartitionLog log = PartitionLog.open(dir, LogConfig.from(Map.of()), new ManualTime(), Runnable::run);
        try {
            FetchResult result = new FetchResult(TP, TestFetchedRecords.fileRegion(log.read(0, 1 << 20)), 0, 0, 0);
            assertThat(result.readRecords().remaining()).isZero();
            assertThat(result.nextOffset()).isZero();
        } finally {
            log.close();
        }
    }
}
