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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Idempotent producers: a retried batch is written once; gaps and fenced epochs are refused; state survives. */
class IdempotentAppendTest {

    private static final Map<String, String> SMALL_SEGMENTS = Map.of(LogConfig.SEGMENT_BYTES, "1024");

    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime();

    @Test
    void aRetriedBatchIsWrittenOnceAndAnsweredWithItsFirstOffsets() {
        PartitionLog log = LogFixture.open(dir, time, Map.of());
        LogAppendInfo first = log.appendAsLeader(batch(7, 0, 0, "a", "b"), 0);
        log.appendAsLeader(batch(8, 0, 0, "other"), 0);
        LogAppendInfo retry = log.appendAsLeader(batch(7, 0, 0, "a", "b"), 0);

        assertThat(retry.duplicate()).isTrue();
        assertThat(retry.firstOffset()).isEqualTo(first.firstOffset());
        assertThat(retry.lastOffset()).isEqualTo(first.lastOffset());
        assertThat(values(readAll(log, 0))).containsExactly("a", "b", "other");
        log.close();
    }

    @Test
    void anyOfTheLastFiveBatchesIsRecognised() {
        PartitionLog log = LogFixture.open(dir, time, Map.of());
        for (int i = 0; i < 6; i++) {
            log.appendAsLeader(batch(1, 0, i, "v" + i), 0);
        }
        assertThat(log.appendAsLeader(batch(1, 0, 1, "v1"), 0).duplicate()).isTrue();
        assertThat(log.appendAsLeader(batch(1, 0, 5, "v5"), 0).firstOffset()).isEqualTo(5);
        assertThat(errorOf(() -> log.appendAsLeader(batch(1, 0, 0, "v0"), 0)))
                .isEqualTo(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        log.close();
    }

    @Test
    void gapsAndFencedEpochsAreRefused() {
        PartitionLog log = LogFixture.open(dir, time, Map.of());
        log.appendAsLeader(batch(3, 1, 0, "a", "b"), 0);
        assertThat(errorOf(() -> log.appendAsLeader(batch(3, 1, 5, "gap"), 0)))
                .isEqualTo(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        assertThat(errorOf(() -> log.appendAsLeader(batch(3, 0, 2, "old epoch"), 0)))
                .isEqualTo(ErrorCode.INVALID_PRODUCER_EPOCH);
        assertThat(errorOf(() -> log.appendAsLeader(batch(3, 2, 9, "new epoch not at 0"), 0)))
                .isEqualTo(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        assertThat(log.appendAsLeader(batch(3, 2, 0, "new epoch"), 0).duplicate()).isFalse();
        assertThat(errorOf(() -> log.appendAsLeader(batch(3, 1, 2, "now fenced"), 0)))
                .isEqualTo(ErrorCode.INVALID_PRODUCER_EPOCH);
        log.close();
    }

    @Test
    void stateSurvivesACleanRestartThroughTheSnapshot() {
        PartitionLog log = LogFixture.open(dir, time, SMALL_SEGMENTS);
        for (int i = 0; i < 40; i++) {
            log.appendAsLeader(batch(5, 0, i, "v" + i), 0);
        }
        log.close();
        assertThat(Files.exists(dir.resolve(ProducerStateManager.SNAPSHOT_FILE))).isTrue();

        PartitionLog reopened = LogFixture.open(dir, time, SMALL_SEGMENTS);
        assertThat(reopened.appendAsLeader(batch(5, 0, 39, "v39"), 0).duplicate()).isTrue();
        assertThat(errorOf(() -> reopened.appendAsLeader(batch(5, 0, 41, "gap"), 0)))
                .isEqualTo(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        assertThat(reopened.appendAsLeader(batch(5, 0, 40, "v40"), 0).firstOffset()).isEqualTo(40);
        reopened.close();
    }

    @Test
    void stateIsRebuiltFromTheLogAfterACrash() throws Exception {
        PartitionLog log = LogFixture.open(dir, time, SMALL_SEGMENTS);
        for (int i = 0; i < 40; i++) {
            log.appendAsLeader(batch(5, 0, i, "v" + i), 0);
        }
        log.abandon();
        Files.deleteIfExists(dir.resolve(ProducerStateManager.SNAPSHOT_FILE));

        PartitionLog reopened = LogFixture.open(dir, time, SMALL_SEGMENTS);
        LogAppendInfo retry = reopened.appendAsLeader(batch(5, 0, 38, "v38"), 0);
        assertThat(retry.duplicate()).isTrue();
        assertThat(retry.firstOffset()).isEqualTo(38);
        reopened.close();
    }

    @Test
    void aCorruptSnapshotIsIgnoredAndTheStateRebuilt() throws Exception {
        PartitionLog log = LogFixture.open(dir, time, Map.of());
        log.appendAsLeader(batch(9, 0, 0, "a"), 0);
        log.close();
        Files.write(dir.resolve(ProducerStateManager.SNAPSHOT_FILE), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                12, 13, 14, 15, 16, 17, 18, 19, 20});
        PartitionLog reopened = LogFixture.open(dir, time, Map.of());
        assertThat(reopened.appendAsLeader(batch(9, 0, 0, "a"), 0).duplicate()).isTrue();
        reopened.close();
    }

    @Test
    void silentProducersExpire() {
        PartitionLog log = LogFixture.open(dir, time, Map.of(LogConfig.PRODUCER_ID_EXPIRATION_MS, "1000"));
        log.appendAsLeader(batch(11, 0, 0, "a"), 0);
        assertThat(log.producerCount()).isEqualTo(1);
        time.sleep(2000);
        log.enforceRetention();
        assertThat(log.producerCount()).isZero();
        log.close();
    }

    private RecordBatch batch(long producerId, int epoch, int baseSequence, String... values) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0)
                .producer(producerId, (short) epoch, baseSequence);
        for (String v : values) {
            builder.append(time.milliseconds(), null, v.getBytes(StandardCharsets.UTF_8));
        }
        return builder.build();
    }
}
