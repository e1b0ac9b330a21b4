package io.millrace.storage;

import static io.millrace.storage.LogFixture.batch;
import static io.millrace.storage.LogFixture.fill;
import static io.millrace.storage.LogFixture.open;
import static io.millrace.storage.LogFixture.readAll;
import static io.millrace.storage.LogFixture.values;
import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ManualTime;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PartitionLog#deleteSegmentsBefore}: how the offsets topic drops what a snapshot made redundant. Only whole
 * segments entirely below the offset go; the active segment and a segment reaching the offset stay; it survives a
 * reopen.
 */
class DeleteSegmentsBeforeTest {

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
    void deletesOnlyWholeSegmentsBelowTheOffset() {
        log = open(dir, time, Map.of(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_MS, "-1"));
        fill(log, time, 40, 4);
        log.roll();
        long snapshotAt = log.logEndOffset();
        log.appendAsLeader(batch((int) snapshotAt, 3, time.milliseconds()), 0);
        int segments = log.segmentCount();

        int deleted = log.deleteSegmentsBefore(snapshotAt);

        assertThat(deleted).isEqualTo(segments - 1);
        assertThat(log.logStartOffset()).isEqualTo(snapshotAt);
        assertThat(values(readAll(log, snapshotAt))).containsExactly("v-" + snapshotAt, "v-" + (snapshotAt + 1),
                "v-" + (snapshotAt + 2));

        log.close();
        log = open(dir, time, Map.of(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_MS, "-1"));
        assertThat(log.logStartOffset()).isEqualTo(snapshotAt);
        assertThat(log.logEndOffset()).isEqualTo(snapshotAt + 3);
    }

    @Test
    void keepsASegmentThatReachesTheOffsetAndTheActiveOne() {
        log = open(dir, time, Map.of(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_MS, "-1"));
        List<String> written = fill(log, time, 40, 4);
        long end = log.logEndOffset();

        log.deleteSegmentsBefore(end);
        // the active segment holds the last records, so they all remain readable
        List<String> kept = values(readAll(log, log.logStartOffset()));
        assertThat(written).endsWith(kept.toArray(String[]::new));
        assertThat(log.segmentCount()).isEqualTo(1);

        assertThat(log.deleteSegmentsBefore(0)).isZero();
        assertThat(log.deleteSegmentsBefore(end)).isZero();
    }
}
