package io.millrace.storage;

import static org.assertj.core.api.Assertions.assertThat;

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

/**
 * Producer state is bounded: silent producers expire by the broker's clock, and a cap evicts the one silent longest.
 */
class ProducerStateManagerTest {

    private static final long DAY = 24 * 3_600_000L;

    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime();

    @Test
    void beyondTheCapTheProducerSilentLongestIsForgottenAndItsRetryIsWrittenAgain() {
        ProducerStateManager state = new ProducerStateManager(2);
        write(state, 1, 0, 0);
        write(state, 2, 0, 1);
        write(state, 1, 1, 2);
        write(state, 3, 0, 3);

        assertThat(state.producerCount()).isEqualTo(2);
        assertThat(state.evictedCount()).isEqualTo(1);
        // producer 2 was silent longest; 1 wrote again after it
        assertThat(state.check(1, (short) 0, 1, 1)).isPresent();
        assertThat(state.check(3, (short) 0, 0, 0)).isPresent();
        assertThat(state.check(2, (short) 0, 0, 0)).as("forgotten: a retry is not recognised").isEmpty();
    }

    @Test
    void expiryGoesByWhenTheBrokerWroteNotByTheProducersTimestamps() {
        ProducerStateManager state = new ProducerStateManager(10);
        long now = time.milliseconds();
        state.update(1, (short) 0, 0, 0, 0, 0, now);
        state.update(2, (short) 0, 0, 0, 1, 1, now - DAY);

        assertThat(state.expire(now, DAY - 1)).isEqualTo(1);
        assertThat(state.check(1, (short) 0, 0, 0)).isPresent();
        assertThat(state.check(2, (short) 0, 0, 0)).isEmpty();
    }

    @Test
    void aLastWriteInTheFutureIsBroughtBackToNowAndExpiresInTime() {
        ProducerStateManager state = new ProducerStateManager(10);
        long now = time.milliseconds();
        state.update(1, (short) 0, 0, 0, 0, 0, Long.MAX_VALUE);

        assertThat(state.expire(now, DAY)).isZero();
        assertThat(state.expire(now + DAY + 1, DAY)).isEqualTo(1);
    }

    @Test
    void theSnapshotKeepsTheOrderOfLastWritesAndASmallerCapKeepsTheNewest() throws Exception {
        ProducerStateManager state = new ProducerStateManager(10);
        write(state, 1, 0, 0);
        write(state, 2, 0, 1);
        write(state, 3, 0, 2);
        write(state, 1, 1, 3);
        ProducerStateManager.writeSnapshot(dir, state.snapshotBytes(4));

        ProducerStateManager smaller = new ProducerStateManager(2);
        assertThat(smaller.loadSnapshot(dir)).contains(4L);
        assertThat(smaller.producerCount()).isEqualTo(2);
        assertThat(smaller.check(1, (short) 0, 1, 1)).isPresent();
        assertThat(smaller.check(3, (short) 0, 0, 0)).isPresent();
        assertThat(smaller.check(2, (short) 0, 0, 0)).isEmpty();
    }

    @Test
    void theLogCapsItsProducersWithTheBrokersSetting() {
        LogConfig config = LogConfig.from(Map.of()).withMaxProducerStates(3);
        PartitionLog log = PartitionLog.open(dir, config, time, LogFixture.DIRECT);
        for (long producer = 0; producer < 5; producer++) {
            log.appendAsLeader(idempotent(producer, 0, "p" + producer), 0);
        }
        assertThat(log.producerCount()).isEqualTo(3);
        // producer 4 is kept: its retry is a duplicate; producer 0 was evicted: its retry is written again
        assertThat(log.appendAsLeader(idempotent(4, 0, "p4"), 0).duplicate()).isTrue();
        assertThat(log.appendAsLeader(idempotent(0, 0, "p0"), 0).duplicate()).isFalse();
        assertThat(log.logEndOffset()).isEqualTo(6);
        log.close();
    }

    @Test
    void producersSilentLongerThanTheExpirationAreDroppedWhenTheLogOpens() throws Exception {
        Map<String, String> oneDay = Map.of(LogConfig.PRODUCER_ID_EXPIRATION_MS, Long.toString(DAY));
        PartitionLog log = LogFixture.open(dir, time, oneDay);
        log.appendAsLeader(idempotent(7, 0, "a"), 0);
        log.appendAsLeader(idempotent(7, 1, "b"), 0);
        log.abandon();
        Files.deleteIfExists(dir.resolve(ProducerStateManager.SNAPSHOT_FILE));

        time.sleep(DAY + 1);
        PartitionLog reopened = LogFixture.open(dir, time, oneDay);
        assertThat(reopened.producerCount()).isZero();
        // forgotten, so a batch skipping sequences is taken as from an unknown producer instead of refused
        assertThat(reopened.appendAsLeader(idempotent(7, 5, "c"), 0).firstOffset()).isEqualTo(2);
        reopened.close();
    }

    private static void write(ProducerStateManager state, long producerId, int sequence, long offset) {
        state.update(producerId, (short) 0, sequence, sequence, offset, offset, 1_000 + offset);
    }

    private RecordBatch idempotent(long producerId, int baseSequence, String value) {
        return new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0)
                .producer(producerId, (short) 0, baseSequence)
                .append(time.milliseconds(), null, value.getBytes(StandardCharsets.UTF_8)).build();
    }
}
