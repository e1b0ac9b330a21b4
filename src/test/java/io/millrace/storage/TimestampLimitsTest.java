package io.millrace.storage;

import static io.millrace.storage.LogFixture.readAll;
import static io.millrace.storage.LogFixture.values;
import static io.millrace.storage.PartitionLogTest.errorOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ErrorCode;
import io.millrace.common.ManualTime;
import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The leader refuses records dated too far from its clock ({@code message.timestamp.after.max.ms},
 * {@code message.timestamp.before.max.ms}), so that no record can pin its segment past retention.
 */
class TimestampLimitsTest {

    private static final long HOUR = 3_600_000L;
    private static final long YEAR = 365 * 24 * HOUR;

    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime();
    private PartitionLog log;

    @AfterEach
    void close() {
        if (log != null) {
            log.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"NONE", "GZIP"})
    void aRecordMoreThanAnHourAheadIsRefusedByDefaultAndTheLogIsUnchanged(CompressionType compression) {
        log = LogFixture.open(dir, time, Map.of());
        long now = time.milliseconds();

        assertThat(errorOf(() -> log.appendAsLeader(batch(compression, now + HOUR + 1), 0)))
                .isEqualTo(ErrorCode.INVALID_TIMESTAMP);
        assertThat(log.logEndOffset()).isZero();

        log.appendAsLeader(batch(compression, now + HOUR), 0);
        assertThat(log.logEndOffset()).isEqualTo(1);
    }

    @Test
    void theYear2286RecordOfTheIssueIsRefusedWithAMessageNamingTheLimit() {
        log = LogFixture.open(dir, time, Map.of(LogConfig.RETENTION_MS, "1000"));

        assertThatRefused(batch(CompressionType.NONE, 9_999_999_999_999L))
                .contains("ahead of the broker's clock").contains("message.timestamp.after.max.ms=3600000");
    }

    @Test
    void oldRecordsAreAcceptedByDefaultAndRefusedBeyondATopicsBeforeLimit() {
        log = LogFixture.open(dir, time, Map.of());
        log.appendAsLeader(batch(CompressionType.NONE, 0), 0);

        log.close();
        log = LogFixture.open(dir, time, Map.of(LogConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS, Long.toString(YEAR)));
        long now = time.milliseconds();
        assertThatRefused(batch(CompressionType.NONE, now - YEAR - 1)).contains("message.timestamp.before.max.ms");
        log.appendAsLeader(batch(CompressionType.NONE, now - YEAR), 0);
        assertThat(log.logEndOffset()).isEqualTo(2);
    }

    @Test
    void everyRecordCountsNotOnlyTheFirst() {
        log = LogFixture.open(dir, time, Map.of());
        long now = time.milliseconds();
        RecordBatch laterRecordAhead = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0)
                .append(now, null, bytes("on time")).append(now + 10 * YEAR, null, bytes("ahead")).build();

        assertThat(errorOf(() -> log.appendAsLeader(laterRecordAhead, 0))).isEqualTo(ErrorCode.INVALID_TIMESTAMP);
    }

    @Test
    void aHeaderMaxTimestampThatLiesAboutItsRecordsIsRefusedToo() {
        log = LogFixture.open(dir, time, Map.of());
        RecordBatch batch = batch(CompressionType.NONE, time.milliseconds());
        // The max timestamp is what retention and the time index go by.
        batch.buffer().putLong(RecordBatch.MAX_TIMESTAMP_OFFSET, time.milliseconds() + 10 * YEAR);
        batch.buffer().putInt(RecordBatch.CRC_OFFSET, (int) batch.computeChecksum());

        assertThat(errorOf(() -> log.appendAsLeader(batch, 0))).isEqualTo(ErrorCode.INVALID_TIMESTAMP);
    }

    @Test
    void aTopicMayAllowMoreAndLogAppendTimeTopicsAreNotChecked() {
        long farAhead = time.milliseconds() + 10 * YEAR;
        log = LogFixture.open(dir, time,
                Map.of(LogConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS, Long.toString(Long.MAX_VALUE)));
        log.appendAsLeader(batch(CompressionType.NONE, farAhead), 0);
        log.close();

        log = LogFixture.open(dir.resolve("append-time"), time, Map.of(LogConfig.MESSAGE_TIMESTAMP_TYPE,
                "LogAppendTime"));
        LogAppendInfo info = log.appendAsLeader(batch(CompressionType.NONE, farAhead), 0);
        assertThat(info.logAppendTime()).hasValue(time.milliseconds());
    }

    @Test
    void inAGroupOnlyTheBatchWithTheBadTimestampIsRefused() {
        log = LogFixture.open(dir, time, Map.of());
        long now = time.milliseconds();
        List<LogAppendResult> results = log.appendAsLeader(List.of(LogFixture.batch(0, 1, now),
                LogFixture.batch(1, 1, now + 2 * HOUR), LogFixture.batch(2, 1, now)), 0);

        assertThat(results.get(1).error()).hasValueSatisfying(e ->
                assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_TIMESTAMP));
        assertThat(results.get(0).error()).isEmpty();
        assertThat(results.get(2).error()).isEmpty();
        assertThat(values(readAll(log, 0))).containsExactly("v-0", "v-2");
    }

    @Test
    void aFollowerCopiesWhatItsLeaderAcceptedWhateverItsOwnClockSays() {
        long acceptedByTheLeader = time.milliseconds() + 10 * YEAR;
        log = LogFixture.open(dir, time, Map.of());
        RecordBatch copied = batch(CompressionType.NONE, acceptedByTheLeader);
        copied.setBaseOffset(0);
        copied.setPartitionLeaderEpoch(1);

        log.appendAsFollower(copied);
        assertThat(log.logEndOffset()).isEqualTo(1);
    }

    private org.assertj.core.api.AbstractStringAssert<?> assertThatRefused(RecordBatch batch) {
        LogAppendResult result = log.appendAsLeader(List.of(batch), 0).get(0);
        assertThat(result.error()).isPresent();
        assertThat(result.error().get().errorCode()).isEqualTo(ErrorCode.INVALID_TIMESTAMP);
        return assertThat(result.error().get().getMessage());
    }

    private static RecordBatch batch(CompressionType compression, long timestamp) {
        return new RecordBatchBuilder(compression, TimestampType.CREATE_TIME, 0)
                .append(timestamp, null, bytes("at " + timestamp)).build();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
