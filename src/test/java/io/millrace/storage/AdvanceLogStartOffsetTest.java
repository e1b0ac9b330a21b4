package io.millrace.storage;

import static io.millrace.storage.LogFixture.fill;
import static io.millrace.storage.LogFixture.open;
import static io.millrace.storage.LogFixture.readAll;
import static io.millrace.storage.LogFixture.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ErrorCode;
import io.millrace.common.ManualTime;
import io.millrace.common.MillraceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PartitionLog#advanceLogStartOffset}, Kafka's DeleteRecords on one log: the start moves inside a segment,
 * reads and timestamp lookups below it are out of range, only the segments wholly below it are deleted, and the new
 * start survives a reopen through {@value PartitionLog#LOG_START_OFFSET_FILE}.
 */
class AdvanceLogStartOffsetTest {

    private static final Map<String, String> SMALL_SEGMENTS =
            Map.of(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_MS, "-1");

    @TempDir
    Path dir;
    final ManualTime time = new ManualTime();
    PartitionLog log;

    @AfterEach
    void close() {
        if (log != null) {
            log.close();
        }
    }

    @Test
    void theStartMovesInsideASegmentAndOnlyWholeSegmentsBelowItAreDeleted() throws IOException {
        log = open(dir, time, SMALL_SEGMENTS);
        List<String> written = fill(log, time, 40, 4);
        int segmentsBefore = log.segmentCount();
        // 50 is the third record of a batch: the start need not be a batch boundary
        assertThat(log.advanceLogStartOffset(50)).isTrue();

        assertThat(log.logStartOffset()).isEqualTo(50);
        assertThat(segmentBaseOffsets()).hasSize(log.segmentCount())
                .as("the segment holding offset 50 is the first one kept").first().matches(base -> base <= 50);
        assertThat(segmentBaseOffsets().get(1)).isGreaterThan(50);
        assertThat(log.segmentCount()).isLessThan(segmentsBefore);
        assertOutOfRange(49);
        assertThat(values(readAll(log, 50))).isEqualTo(written.subList(50, written.size()));
        assertThat(log.offsetForTimestamp(0)).get().extracting(TimestampOffset::offset).isEqualTo(50L);
        assertThat(log.epochEntries()).containsExactly(new LeaderEpochCache.EpochEntry(0, 50));
        assertThat(Files.readString(dir.resolve(PartitionLog.LOG_START_OFFSET_FILE))).isEqualTo("0\n50\n");

        assertThat(log.advanceLogStartOffset(30)).as("a start below the current one changes nothing").isFalse();
        assertThat(log.logStartOffset()).isEqualTo(50);
        long end = log.logEndOffset();
        assertThatThrownBy(() -> log.advanceLogStartOffset(end + 1)).isInstanceOf(IllegalArgumentException.class);

        log.close();
        log = open(dir, time, SMALL_SEGMENTS);
        assertThat(log.logStartOffset()).isEqualTo(50);
        assertThat(log.logEndOffset()).isEqualTo(end);
        assertOutOfRange(49);
        assertThat(values(readAll(log, 50))).isEqualTo(written.subList(50, written.size()));
    }

    @Test
    void startingAtTheLogEndLeavesNothingToReadAndSurvivesAReopen() {
        log = open(dir, time, SMALL_SEGMENTS);
        fill(log, time, 10, 4);
        long end = log.logEndOffset();

        assertThat(log.advanceLogStartOffset(end)).isTrue();
        assertThat(log.logStartOffset()).isEqualTo(end);
        assertThat(log.read(end, 4096).isEmpty()).isTrue();
        assertOutOfRange(end - 1);
        fill(log, time, 1, 4);
        assertThat(values(readAll(log, end))).containsExactly("v-40", "v-41", "v-42", "v-43");

        log.close();
        log = open(dir, time, SMALL_SEGMENTS);
        assertThat(log.logStartOffset()).isEqualTo(end);
        assertThat(log.logEndOffset()).isEqualTo(end + 4);
    }

    /** A follower starting over below its old start rewrites the checkpoint, so a reopen keeps the lower start. */
    @Test
    void startingOverBelowTheCheckpointedStartLowersIt() {
        log = open(dir, time, SMALL_SEGMENTS);
        fill(log, time, 10, 4);
        log.advanceLogStartOffset(30);

        log.truncateFullyAndStartAt(12);
        fill(log, time, 1, 4);
        log.close();
        log = open(dir, time, SMALL_SEGMENTS);

        assertThat(log.logStartOffset()).isEqualTo(12);
        assertThat(values(readAll(log, 12))).containsExactly("v-12", "v-13", "v-14", "v-15");
    }

    private void assertOutOfRange(long offset) {
        assertThatThrownBy(() -> log.read(offset, 4096)).isInstanceOf(MillraceException.class)
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
    }

    private List<Long> segmentBaseOffsets() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(name -> name.endsWith(LogSegment.LOG_SUFFIX))
                    .map(name -> Long.parseLong(name.substring(0, name.length() - LogSegment.LOG_SUFFIX.length())))
                    .sorted().toList();
        }
    }
}
