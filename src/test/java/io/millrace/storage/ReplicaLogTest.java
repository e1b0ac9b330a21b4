package io.millrace.storage;

import static io.millrace.storage.LogFixture.batch;
import static io.millrace.storage.LogFixture.fill;
import static io.millrace.storage.LogFixture.readAll;
import static io.millrace.storage.LogFixture.values;
import static io.millrace.storage.PartitionLogTest.errorOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.EpochEndOffset;
import io.millrace.common.ErrorCode;
import io.millrace.common.ManualTime;
import io.millrace.record.CompressionType;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.RecordBatches;
import io.millrace.record.TimestampType;
import io.millrace.storage.LeaderEpochCache.EpochEntry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What replication needs from the log: follower appends that copy the leader's batches, the leader epoch cache kept
 * through appends, truncations, retention and restarts, the high-watermark checkpoint, and slices that notice a
 * truncation.
 */
class ReplicaLogTest {

    private static final Map<String, String> SMALL_SEGMENTS = Map.of(LogConfig.SEGMENT_BYTES, "1024");

    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime();
    private final List<PartitionLog> opened = new ArrayList<>();

    @AfterEach
    void closeLogs() {
        for (PartitionLog log : opened) {
            try {
                log.close();
            } catch (RuntimeException alreadyClosed) {
                // closed, abandoned or deleted by the test
            }
        }
    }

    private PartitionLog open(String name, Map<String, String> config) {
        PartitionLog log = LogFixture.open(dir.resolve(name), time, config);
        opened.add(log);
        return log;
    }

    /** Everything from {@code offset} on, as the leader would send it: batches read back from its files. */
    private static List<RecordBatch> batchesFrom(PartitionLog log, long offset) {
        List<RecordBatch> out = new ArrayList<>();
        long at = offset;
        while (at < log.logEndOffset()) {
            LogSlice slice = log.read(at, 1 << 20);
            out.addAll(RecordBatches.split(slice.readFully()));
            at = slice.nextOffset();
        }
        return out;
    }

    private static ByteBuffer bytesOf(PartitionLog log) {
        ByteBuffer all = ByteBuffer.allocate((int) log.size());
        for (RecordBatch batch : batchesFrom(log, log.logStartOffset())) {
            all.put(batch.buffer().duplicate());
        }
        return all.flip();
    }

    private RecordBatch idempotent(long producerId, int baseSequence, String... values) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0)
                .producer(producerId, (short) 0, baseSequence);
        for (String v : values) {
            builder.append(time.milliseconds(), null, v.getBytes(StandardCharsets.UTF_8));
        }
        return builder.build();
    }

    /** A batch as a leader of {@code epoch} would have written it at {@code baseOffset}. */
    private static RecordBatch fromLeader(RecordBatch batch, long baseOffset, int epoch) {
        batch.setBaseOffset(baseOffset);
        batch.setPartitionLeaderEpoch(epoch);
        return batch;
    }

    @Test
    void theLeaderRecordsWhereEachOfItsEpochsStarts() {
        PartitionLog leader = open("leader", Map.of());
        leader.assignEpochStartOffset(1, 0);
        fill(leader, time, 3, 2);
        leader.assignEpochStartOffset(3, leader.logEndOffset());
        assertThat(leader.latestEpoch()).isEqualTo(3);
        fill(leader, time, 2, 2);
        leader.appendAsLeader(batch(10, 1, time.milliseconds()), 4);

        assertThat(leader.epochEntries()).containsExactly(new EpochEntry(1, 0), new EpochEntry(3, 6),
                new EpochEntry(4, 10));
        assertThat(leader.endOffsetForEpoch(1)).isEqualTo(new EpochEndOffset(1, 6));
        assertThat(leader.endOffsetForEpoch(2)).isEqualTo(new EpochEndOffset(1, 6));
        assertThat(leader.endOffsetForEpoch(4)).isEqualTo(new EpochEndOffset(4, 11));
        assertThat(leader.endOffsetForEpoch(0)).isEqualTo(EpochEndOffset.UNDEFINED);
        assertThatThrownBy(() -> leader.assignEpochStartOffset(5, 12)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFollowerCopiesTheLeadersBatchesByteForByte() {
        PartitionLog leader = open("leader", Map.of(LogConfig.MESSAGE_TIMESTAMP_TYPE, "LogAppendTime"));
        fill(leader, time, 3, 2);
        leader.assignEpochStartOffset(2, leader.logEndOffset());
        for (int i = 0; i < 2; i++) {
            leader.appendAsLeader(batch(6 + 2 * i, 2, 0), 2);
            time.sleep(5);
        }
        PartitionLog follower = open("follower", Map.of());

        LogAppendInfo info = follower.appendAsFollower(batchesFrom(leader, 0));

        assertThat(info.firstOffset()).isZero();
        assertThat(info.lastOffset()).isEqualTo(9);
        assertThat(info.recordCount()).isEqualTo(10);
        assertThat(follower.logEndOffset()).isEqualTo(leader.logEndOffset());
        assertThat(bytesOf(follower)).isEqualTo(bytesOf(leader));
        assertThat(follower.epochEntries()).isEqualTo(leader.epochEntries())
                .containsExactly(new EpochEntry(0, 0), new EpochEntry(2, 6));
        assertThat(readAll(follower, 0)).extracting(Record::timestamp)
                .isEqualTo(readAll(leader, 0).stream().map(Record::timestamp).toList());
    }

    @Test
    void aFollowerAppendSpanningSegmentsWritesThemAllInOrder() {
        PartitionLog leader = open("leader", SMALL_SEGMENTS);
        List<String> written = fill(leader, time, 40, 3);
        PartitionLog follower = open("follower", SMALL_SEGMENTS);

        follower.appendAsFollower(batchesFrom(leader, 0));

        assertThat(follower.segmentCount()).isGreaterThan(3);
        assertThat(values(readAll(follower, 0))).isEqualTo(written);
        assertThat(readAll(follower, 0)).extracting(Record::offset).isSorted().doesNotHaveDuplicates();
        assertThat(follower.read(61, 1).firstOffset()).isEqualTo(60);
    }

    @Test
    void aFollowerAppendThatDoesNotContinueTheLogChangesNothing() {
        PartitionLog follower = open("follower", Map.of());
        follower.appendAsFollower(fromLeader(batch(0, 2, 0), 0, 1));

        List<RecordBatch> gap = List.of(fromLeader(batch(2, 2, 0), 2, 5), fromLeader(batch(5, 1, 0), 5, 5));
        assertThat(errorOf(() -> follower.appendAsFollower(gap))).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
        assertThat(errorOf(() -> follower.appendAsFollower(List.of(fromLeader(batch(3, 1, 0), 3, 5)))))
                .isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
        assertThat(errorOf(() -> follower.appendAsFollower(List.of(fromLeader(batch(1, 1, 0), 1, 5)))))
                .isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
        RecordBatch corrupt = fromLeader(batch(2, 2, 0), 2, 5);
        corrupt.buffer().put(corrupt.sizeInBytes() - 1, (byte) 0x7f);
        assertThat(errorOf(() -> follower.appendAsFollower(List.of(fromLeader(batch(2, 1, 0), 2, 5), corrupt))))
                .isEqualTo(ErrorCode.CORRUPT_RECORD);

        assertThat(follower.logEndOffset()).isEqualTo(2);
        assertThat(follower.latestEpoch()).isEqualTo(1);
        assertThat(values(readAll(follower, 0))).containsExactly("v-0", "v-1");
    }

    @Test
    void aRetryOfABatchCopiedAsFollowerIsADuplicateOnceItLeads() {
        PartitionLog oldLeader = open("old-leader", Map.of());
        LogAppendInfo first = oldLeader.appendAsLeader(idempotent(42, 0, "a", "b"), 3);
        PartitionLog replica = open("replica", Map.of());
        replica.appendAsFollower(batchesFrom(oldLeader, 0));

        replica.assignEpochStartOffset(4, replica.logEndOffset());
        LogAppendInfo retry = replica.appendAsLeader(idempotent(42, 0, "a", "b"), 4);

        assertThat(retry.duplicate()).isTrue();
        assertThat(retry.firstOffset()).isEqualTo(first.firstOffset());
        assertThat(retry.lastOffset()).isEqualTo(first.lastOffset());
        assertThat(replica.appendAsLeader(idempotent(42, 2, "c"), 4).firstOffset()).isEqualTo(2);
        assertThat(replica.epochEntries()).containsExactly(new EpochEntry(3, 0), new EpochEntry(4, 2));
    }

    @Test
    void truncatingADivergentTailAndCopyingTheLeadersKeepsEverythingConsistent() {
        PartitionLog replica = open("replica", SMALL_SEGMENTS);
        fill(replica, time, 20, 2);
        replica.assignEpochStartOffset(1, 40);
        for (int i = 0; i < 15; i++) {
            replica.appendAsLeader(idempotent(7, i, "old-" + i), 1);
        }
        assertThat(replica.epochEntries()).containsExactly(new EpochEntry(0, 0), new EpochEntry(1, 40));

        // The new leader (epoch 2) kept only offsets below 45 of epoch 1's writes.
        assertThat(replica.truncateTo(45)).isEqualTo(45);
        assertThat(replica.endOffsetForEpoch(1)).isEqualTo(new EpochEndOffset(1, 45));
        List<RecordBatch> newTail = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            newTail.add(fromLeader(idempotent(7, 5 + i, "new-" + i), 45 + i, 2));
        }
        replica.appendAsFollower(newTail);

        assertThat(replica.epochEntries()).containsExactly(new EpochEntry(0, 0), new EpochEntry(1, 40),
                new EpochEntry(2, 45));
        assertThat(values(readAll(replica, 44))).startsWith("old-4", "new-0").endsWith("new-14").hasSize(16);
        assertThat(replica.read(52, 1).firstOffset()).isEqualTo(52);
        assertThat(replica.offsetForTimestamp(0).orElseThrow().offset()).isZero();
        // the producer state follows the new tail: its last batch is a duplicate, the old tail's ones are not there
        assertThat(replica.appendAsLeader(idempotent(7, 19, "new-14"), 3).firstOffset()).isEqualTo(59);
        assertThat(errorOf(() -> replica.appendAsLeader(idempotent(7, 10, "old-10"), 3)))
                .isEqualTo(ErrorCode.OUT_OF_ORDER_SEQUENCE);

        replica.close();
        PartitionLog reopened = open("replica", SMALL_SEGMENTS);
        assertThat(reopened.epochEntries()).containsExactly(new EpochEntry(0, 0), new EpochEntry(1, 40),
                new EpochEntry(2, 45));
        assertThat(values(readAll(reopened, 45))).first().isEqualTo("new-0");
        assertThat(reopened.appendAsLeader(idempotent(7, 19, "new-14"), 3).duplicate()).isTrue();
    }

    @Test
    void truncatingToTheEndDropsAnEpochThatStartedThereWithoutWriting() {
        PartitionLog log = open("log", Map.of());
        fill(log, time, 2, 2);
        log.assignEpochStartOffset(6, 4);
        assertThat(log.latestEpoch()).isEqualTo(6);
        assertThat(log.truncateTo(4)).isEqualTo(4);
        assertThat(log.latestEpoch()).isZero();
    }

    @Test
    void truncatingBelowTheStartEmptiesTheEpochCache() {
        PartitionLog log = open("log", Map.of());
        fill(log, time, 2, 2);
        assertThat(log.truncateTo(0)).isZero();
        assertThat(log.epochEntries()).isEmpty();
        assertThat(log.latestEpoch()).isEqualTo(-1);
    }

    @Test
    void truncateFullyAndStartAtRestartsAnywhereAndForgetsEverything() {
        PartitionLog before = open("log", Map.of());
        before.appendAsLeader(idempotent(9, 0, "a"), 2);
        fill(before, time, 3, 2);
        before.close();
        PartitionLog log = open("log", Map.of());

        log.truncateFullyAndStartAt(500);

        assertThat(log.logStartOffset()).isEqualTo(500);
        assertThat(log.logEndOffset()).isEqualTo(500);
        assertThat(log.epochEntries()).isEmpty();
        assertThat(log.producerCount()).isZero();
        log.appendAsFollower(fromLeader(idempotent(9, 5, "b"), 500, 4));
        log.abandon();

        PartitionLog reopened = open("log", Map.of());
        assertThat(reopened.logStartOffset()).isEqualTo(500);
        assertThat(values(readAll(reopened, 500))).containsExactly("b");
        assertThat(reopened.epochEntries()).containsExactly(new EpochEntry(4, 500));
        // the producer's first batch, at offset 0, is forgotten: the snapshot written at close does not bring it back
        assertThat(errorOf(() -> reopened.appendAsLeader(idempotent(9, 0, "a"), 4)))
                .isEqualTo(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        assertThat(reopened.appendAsLeader(idempotent(9, 5, "b"), 4).firstOffset()).isEqualTo(500);
    }

    @Test
    void theEpochCacheAndHighWatermarkSurviveACleanRestart() {
        PartitionLog log = open("log", SMALL_SEGMENTS);
        fill(log, time, 10, 2);
        log.appendAsLeader(batch(20, 2, time.milliseconds()), 3);
        log.checkpointHighWatermark(15);
        log.close();

        PartitionLog reopened = open("log", SMALL_SEGMENTS);
        assertThat(reopened.epochEntries()).containsExactly(new EpochEntry(0, 0), new EpochEntry(3, 20));
        assertThat(reopened.checkpointedHighWatermark()).isEqualTo(15);
    }

    @Test
    void theEpochCacheAndHighWatermarkSurviveACrash() throws Exception {
        PartitionLog log = open("log", SMALL_SEGMENTS);
        fill(log, time, 10, 2);
        log.appendAsFollower(fromLeader(batch(20, 2, time.milliseconds()), 20, 3));
        log.checkpointHighWatermark(22);
        log.abandon();
        assertThat(Files.exists(dir.resolve("log").resolve(PartitionLog.CLEAN_SHUTDOWN_FILE))).isFalse();

        PartitionLog reopened = open("log", SMALL_SEGMENTS);
        assertThat(reopened.epochEntries()).containsExactly(new EpochEntry(0, 0), new EpochEntry(3, 20));
        assertThat(reopened.checkpointedHighWatermark()).isEqualTo(22);
    }

    @Test
    void afterACrashThatCutTheLogTheEpochsAndHighWatermarkStayWithinIt() throws Exception {
        PartitionLog log = open("log", Map.of());
        fill(log, time, 5, 2);
        log.appendAsLeader(batch(10, 2, time.milliseconds()), 4);
        log.checkpointHighWatermark(12);
        log.abandon();
        // the last batch (epoch 4) was torn by the crash
        Path segment = dir.resolve("log").resolve(LogSegment.fileName(0, LogSegment.LOG_SUFFIX));
        byte[] bytes = Files.readAllBytes(segment);
        Files.write(segment, java.util.Arrays.copyOf(bytes, bytes.length - 3));

        PartitionLog reopened = open("log", Map.of());
        assertThat(reopened.logEndOffset()).isEqualTo(10);
        assertThat(reopened.epochEntries()).containsExactly(new EpochEntry(0, 0));
        assertThat(reopened.checkpointedHighWatermark()).isEqualTo(10);
    }

    @Test
    void aMissingOrCorruptEpochCheckpointIsRebuiltFromTheBatches() throws Exception {
        PartitionLog log = open("log", SMALL_SEGMENTS);
        fill(log, time, 10, 2);
        log.appendAsFollower(fromLeader(batch(20, 2, time.milliseconds()), 20, 3));
        log.appendAsFollower(fromLeader(batch(22, 2, time.milliseconds()), 22, 3));
        log.appendAsFollower(fromLeader(batch(24, 2, time.milliseconds()), 24, 8));
        log.close();
        Path checkpoint = dir.resolve("log").resolve(LeaderEpochCache.FILE);
        List<EpochEntry> expected = List.of(new EpochEntry(0, 0), new EpochEntry(3, 20), new EpochEntry(8, 24));

        Files.delete(checkpoint);
        PartitionLog rebuilt = open("log", SMALL_SEGMENTS);
        assertThat(rebuilt.epochEntries()).isEqualTo(expected);
        rebuilt.close();
        assertThat(Files.readString(checkpoint)).isEqualTo("0\n3\n0 0\n3 20\n8 24\n");

        Files.writeString(checkpoint, "0\n3\n0 0\n");
        PartitionLog repaired = open("log", SMALL_SEGMENTS);
        assertThat(repaired.epochEntries()).isEqualTo(expected);
    }

    @Test
    void aLogWrittenBeforeEpochsWereStampedGetsAnEmptyCache() throws Exception {
        PartitionLog log = open("log", Map.of());
        log.appendAsFollower(fromLeader(batch(0, 2, 0), 0, -1));
        log.close();
        Files.delete(dir.resolve("log").resolve(LeaderEpochCache.FILE));
        assertThat(open("log", Map.of()).epochEntries()).isEmpty();
    }

    @Test
    void theHighWatermarkCheckpointIsMissingAtFirstAndTextOnDisk() throws Exception {
        PartitionLog log = open("log", Map.of());
        assertThat(log.checkpointedHighWatermark()).isZero();
        fill(log, time, 2, 2);
        log.checkpointHighWatermark(3);
        assertThat(Files.readString(dir.resolve("log").resolve(PartitionLog.HIGH_WATERMARK_FILE))).isEqualTo("0\n3\n");
    }

    @Test
    void retentionDeletesOnlySegmentsBelowTheLimitAndMovesTheFirstEpoch() {
        PartitionLog log = open("log", Map.of(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_MS, "1000"));
        fill(log, time, 20, 2);
        log.assignEpochStartOffset(2, log.logEndOffset());
        fill(log, time, 20, 2);
        int segments = log.segmentCount();
        time.sleep(5000);
        long limit = 30;

        int deleted = log.enforceRetention(limit);

        assertThat(deleted).isPositive().isLessThan(segments);
        assertThat(log.logStartOffset()).isLessThanOrEqualTo(limit);
        assertThat(log.epochEntries()).containsExactly(new EpochEntry(0, log.logStartOffset()),
                new EpochEntry(2, 40));
        long start = log.logStartOffset();
        assertThat(log.enforceRetention(start)).isZero();
        assertThat(log.enforceRetention()).isPositive();
        assertThat(log.epochEntries()).first().isEqualTo(new EpochEntry(2, Math.max(40, log.logStartOffset())));
    }

    @Test
    void deleteSegmentsBeforeMovesTheFirstEpoch() {
        PartitionLog log = open("log", SMALL_SEGMENTS);
        fill(log, time, 30, 2);
        log.deleteSegmentsBefore(40);
        assertThat(log.logStartOffset()).isPositive();
        assertThat(log.epochEntries()).containsExactly(new EpochEntry(0, log.logStartOffset()));
    }

    @Test
    void aSliceIsNoLongerValidOnceItsBytesWereTruncatedAndRewritten() {
        PartitionLog log = open("log", Map.of());
        fill(log, time, 4, 2);
        LogSlice slice = log.read(4, 1 << 20);
        assertThat(slice.isStillValid()).isTrue();
        long sizeBefore = log.size();

        log.truncateTo(4);
        // other records of the same sizes: the file ends where it did
        log.appendAsFollower(List.of(fromLeader(batch(7, 2, time.milliseconds()), 4, 1),
                fromLeader(batch(1, 2, time.milliseconds()), 6, 1)));

        assertThat(log.size()).isEqualTo(sizeBefore);
        assertThat(slice.isStillValid()).isFalse();
        assertThat(log.read(4, 1 << 20).isStillValid()).isTrue();
        LogSlice untouched = log.read(0, 1);
        log.appendAsFollower(fromLeader(batch(80, 1, 0), 8, 1));
        assertThat(untouched.isStillValid()).isTrue();
    }

    @Test
    void aSliceIsNoLongerValidOnceItsSegmentIsDeletedOrRecreated() {
        PartitionLog log = open("log", Map.of());
        fill(log, time, 2, 2);
        LogSlice slice = log.read(0, 1 << 20);
        log.truncateFullyAndStartAt(0);
        log.appendAsFollower(List.of(fromLeader(batch(10, 2, 0), 0, 1), fromLeader(batch(12, 2, 0), 2, 1)));
        assertThat(slice.isStillValid()).isFalse();
        assertThat(LogSlice.empty(3).isStillValid()).isTrue();
    }
}
