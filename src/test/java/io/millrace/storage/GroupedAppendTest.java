package io.millrace.storage;

import static io.millrace.storage.LogFixture.batch;
import static io.millrace.storage.LogFixture.readAll;
import static io.millrace.storage.LogFixture.values;
import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ErrorCode;
import io.millrace.common.ManualTime;
import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several batches appended with one write: each judged on its own, offsets in order, rolls inside a group. */
class GroupedAppendTest {

    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime();

    @Test
    void aGroupKeepsOrderAndRefusesOnlyTheBadBatch() {
        PartitionLog log = LogFixture.open(dir, time, Map.of());
        RecordBatch corrupt = batch(100, 1, 0);
        ByteBuffer bytes = corrupt.buffer();
        bytes.put(bytes.limit() - 1, (byte) (bytes.get(bytes.limit() - 1) ^ 1));
        List<LogAppendResult> results = log.appendAsLeader(List.of(batch(0, 2, 0), RecordBatch.wrap(bytes),
                batch(2, 3, 0)), 4);

        assertThat(results).hasSize(3);
        assertThat(results.get(0).info().orElseThrow().firstOffset()).isZero();
        assertThat(results.get(1).error().orElseThrow().errorCode()).isEqualTo(ErrorCode.CORRUPT_RECORD);
        assertThat(results.get(2).info().orElseThrow().firstOffset()).isEqualTo(2);
        assertThat(results.get(2).info().orElseThrow().lastOffset()).isEqualTo(4);
        assertThat(values(readAll(log, 0))).containsExactly("v-0", "v-1", "v-2", "v-3", "v-4");
        log.close();
    }

    @Test
    void aGroupThatFillsASegmentRollsInTheMiddle() {
        PartitionLog log = LogFixture.open(dir, time, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        List<RecordBatch> group = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            group.add(batch(i, 1, time.milliseconds()));
            expected.add("v-" + i);
        }
        List<LogAppendResult> results = log.appendAsLeader(group, 0);
        assertThat(results).allMatch(r -> r.info().isPresent());
        assertThat(log.segmentCount()).isGreaterThan(2);
        assertThat(values(readAll(log, 0))).isEqualTo(expected);
        log.close();
        PartitionLog reopened = LogFixture.open(dir, time, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        assertThat(values(readAll(reopened, 0))).isEqualTo(expected);
        reopened.close();
    }

    @Test
    void aRetryInsideTheSameGroupIsADuplicate() {
        PartitionLog log = LogFixture.open(dir, time, Map.of());
        List<LogAppendResult> results = log.appendAsLeader(List.of(idempotent(0, "a"), idempotent(1, "b"),
                idempotent(0, "a")), 0);
        assertThat(results.get(2).info().orElseThrow().duplicate()).isTrue();
        assertThat(results.get(2).info().orElseThrow().firstOffset()).isZero();
        assertThat(values(readAll(log, 0))).containsExactly("a", "b");
        log.close();
    }

    private RecordBatch idempotent(int sequence, String value) {
        return new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0).producer(42, (short) 0,
                sequence).append(time.milliseconds(), null, value.getBytes(StandardCharsets.UTF_8)).build();
    }
}
