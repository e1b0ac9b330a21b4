package io.millrace.storage;

import static io.millrace.storage.LogFixture.batch;
import static io.millrace.storage.LogFixture.fill;
import static io.millrace.storage.LogFixture.open;
import static io.millrace.storage.LogFixture.readAll;
import static io.millrace.storage.LogFixture.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ErrorCode;
import io.millrace.common.ManualTime;
import io.millrace.common.MillraceException;
import io.millrace.record.CompressionType;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.RecordBatches;
import io.millrace.record.TimestampType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PartitionLogTest {

    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime();
    private PartitionLog log;

    @AfterEach
    void closeLog() {
        if (log != null) {
            try {
                log.close();
            } catch (MillraceException alreadyClosed) {
                // some tests close or abandon it themselves
            }
        }
    }

    @Test
    void appendsAssignDenseOffsetsAndReadBackExactly() {
        log = open(dir, time, Map.of());
        LogAppendInfo first = log.appendAsLeader(batch(0, 3, time.milliseconds()), 7);
        LogAppendInfo second = log.appendAsLeader(batch(3, 2, time.milliseconds()), 7);

        assertThat(first.firstOffset()).isZero();
        assertThat(first.lastOffset()).isEqualTo(2);
        assertThat(second.firstOffset()).isEqualTo(3);
        assertThat(second.lastOffset()).isEqualTo(4);
        assertThat(log.logEndOffset()).isEqualTo(5);
        assertThat(log.logStartOffset()).isZero();

        List<RecordBatch> batches = RecordBatches.split(log.read(0, 1 << 20).readFully());
        assertThat(batches).hasSize(2);
        assertThat(batches.get(1).partitionLeaderEpoch()).isEqualTo(7);
        assertThat(batches).allMatch(RecordBatch::isValid);
        assertThat(values(readAll(log, 0))).containsExactly("v-0", "v-1", "v-2", "v-3", "v-4");
        assertThat(readAll(log, 0)).extracting(Record::offset).containsExactly(0L, 1L, 2L, 3L, 4L);
    }

    @Test
    void readReturnsWholeBatchesWithinMaxBytesButAlwaysAtLeastOne() {
        log = open(dir, time, Map.of());
        fill(log, time, 10, 5);
        int oneBatch = log.read(0, 1).sizeInBytes();

        LogSlice tiny = log.read(0, 1);
        assertThat(RecordBatches.split(tiny.readFully())).hasSize(1);
        assertThat(tiny.nextOffset()).isEqualTo(5);

        LogSlice three = log.read(0, oneBatch * 3 + oneBatch / 2);
        assertThat(RecordBatches.split(three.readFully())).hasSize(3);
        assertThat(three.nextOffset()).isEqualTo(15);
    }

    @Test
    void readFromInsideABatchReturnsThatWholeBatch() {
        log = open(dir, time, Map.of());
        fill(log, time, 3, 5);
        LogSlice slice = log.read(7, 1);
        assertThat(slice.firstOffset()).isEqualTo(5);
        assertThat(slice.nextOffset()).isEqualTo(10);
    }

    @Test
    void readStopsBelowTheGivenUpperOffset() {
        log = open(dir, time, Map.of());
        fill(log, time, 4, 5);
        LogSlice slice = log.read(0, 1 << 20, 10);
        assertThat(slice.nextOffset()).isEqualTo(10);
        assertThat(RecordBatches.split(slice.readFully())).hasSize(2);
        assertThat(log.read(10, 1 << 20, 10).isEmpty()).isTrue();
    }

    @Test
    void readAtTheLogEndIsEmptyAndOutsideTheLogIsOutOfRange() {
        log = open(dir, time, Map.of());
        fill(log, time, 2, 2);
        assertThat(log.read(4, 100).isEmpty()).isTrue();
        assertThatThrownBy(() -> log.read(5, 100)).isInstanceOf(MillraceException.class)
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
        assertThatThrownBy(() -> log.read(-1, 100)).isInstanceOf(MillraceException.class)
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
    }

    @Test
    void sliceTransfersTheSameBytesItReads() throws IOException {
        log = open(dir, time, Map.of());
        fill(log, time, 5, 3);
        LogSlice slice = log.read(0, 1 << 20);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        assertThat(slice.transferTo(Channels.newChannel(out))).isEqualTo(slice.sizeInBytes());
        assertThat(ByteBuffer.wrap(out.toByteArray())).isEqualTo(slice.readFully());
    }

    @Test
    void rollsSegmentsBySizeAndReadsAcrossThem() {
        log = open(dir, time, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        List<String> written = fill(log, time, 40, 4);
        assertThat(log.segmentCount()).isGreaterThan(5);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log")))
                    .allMatch(n -> n.matches("\\d{20}\\.log"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertThat(values(readAll(log, 0))).isEqualTo(written);
        for (long offset = 0; offset < log.logEndOffset(); offset += 7) {
            LogSlice slice = log.read(offset, 1);
            assertThat(slice.firstOffset()).isLessThanOrEqualTo(offset);
            assertThat(slice.nextOffset()).isGreaterThan(offset);
        }
    }

    @Test
    void rollsSegmentsByAge() {
        log = open(dir, time, Map.of(LogConfig.SEGMENT_MS, "1000"));
        fill(log, time, 3, 1);
        assertThat(log.segmentCount()).isEqualTo(1);
        time.sleep(1000);
        fill(log, time, 1, 1);
        assertThat(log.segmentCount()).isEqualTo(2);
    }

    @Test
    void rollsWhenTheOffsetIndexIsFull() {
        log = open(dir, time, Map.of(LogConfig.SEGMENT_INDEX_BYTES, "64", LogConfig.INDEX_INTERVAL_BYTES, "0"));
        fill(log, time, 30, 1);
        assertThat(log.segmentCount()).isGreaterThan(2);
        assertThat(readAll(log, 0)).hasSize(30);
    }

    @Test
    void sparseIndexFindsEveryOffset() {
        log = open(dir, time, Map.of(LogConfig.INDEX_INTERVAL_BYTES, "200"));
        fill(log, time, 200, 3);
        for (long offset = 0; offset < 600; offset++) {
            LogSlice slice = log.read(offset, 1);
            assertThat(slice.firstOffset()).isEqualTo(offset / 3 * 3);
        }
    }

    @Test
    void retentionByTimeDeletesExpiredSegmentsAndMovesTheStart() {
        log = open(dir, time, Map.of(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_MS, "10000"));
        fill(log, time, 30, 4);
        int before = log.segmentCount();
        time.sleep(5_000);
        List<String> recent = fill(log, time, 30, 4);
        assertThat(log.enforceRetention()).isZero();

        time.sleep(6_000);
        assertThat(log.enforceRetention()).isGreaterThanOrEqualTo(before - 1);
        assertThat(log.logStartOffset()).isGreaterThan(0).isLessThanOrEqualTo(120);
        assertThat(values(readAll(log, log.logStartOffset()))).endsWith(recent.toArray(String[]::new));
        assertThatThrownBy(() -> log.read(0, 100)).isInstanceOf(MillraceException.class);
    }

    @Test
    void retentionByTimeRollsAndDeletesAnExpiredActiveSegment() {
        log = open(dir, time, Map.of(LogConfig.RETENTION_MS, "1000"));
        fill(log, time, 5, 2);
        time.sleep(2_000);
        assertThat(log.enforceRetention()).isEqualTo(1);
        assertThat(log.logStartOffset()).isEqualTo(10);
        assertThat(log.logEndOffset()).isEqualTo(10);
        assertThat(log.read(10, 100).isEmpty()).isTrue();
        log.appendAsLeader(batch(10, 1, time.milliseconds()), 0);
        assertThat(values(readAll(log, 10))).containsExactly("v-10");
    }

    @Test
    void retentionBySizeKeepsTheLogUnderTheLimit() {
        log = open(dir, time, Map.of(LogConfig.SEGMENT_BYTES, "1024", LogConfig.RETENTION_BYTES, "3000",
                LogConfig.RETENTION_MS, "-1"));
        List<String> written = fill(log, time, 60, 4);
        log.enforceRetention();
        assertThat(log.size()).isLessThanOrEqualTo(3000 + 1024);
        List<String> kept = values(readAll(log, log.logStartOffset()));
        assertThat(written).endsWith(kept.toArray(String[]::new));
        assertThat(kept.size()).isLessThan(written.size());
    }

    @Test
    void offsetForTimestampFindsTheFirstRecordAtOrAfterIt() {
        log = open(dir, time, Map.of(LogConfig.SEGMENT_BYTES, "1024", LogConfig.INDEX_INTERVAL_BYTES, "100"));
        long start = time.milliseconds();
        for (int i = 0; i < 100; i++) {
            log.appendAsLeader(batch(i, 1, start + i * 10L), 0);
        }
        assertThat(log.offsetForTimestamp(start - 5)).contains(new TimestampOffset(start, 0));
        assertThat(log.offsetForTimestamp(start + 500)).contains(new TimestampOffset(start + 500, 50));
        assertThat(log.offsetForTimestamp(start + 501)).contains(new TimestampOffset(start + 510, 51));
        assertThat(log.offsetForTimestamp(start + 990)).contains(new TimestampOffset(start + 990, 99));
        assertThat(log.offsetForTimestamp(start + 991)).isEmpty();
    }

    @Test
    void logAppendTimeStampsTheBrokerClock() {
        log = open(dir, time, Map.of(LogConfig.MESSAGE_TIMESTAMP_TYPE, "LogAppendTime"));
        LogAppendInfo info = log.appendAsLeader(batch(0, 2, 5), 0);
        assertThat(info.logAppendTime()).hasValue(time.milliseconds());
        RecordBatch stored = RecordBatches.split(log.read(0, 1000).readFully()).get(0);
        assertThat(stored.isValid()).isTrue();
        assertThat(stored.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
        assertThat(stored.records()).extracting(Record::timestamp).containsOnly(time.milliseconds());
    }

    @Test
    void truncateToRemovesTheTailAndAppendsContinue() {
        log = open(dir, time, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        List<String> written = fill(log, time, 40, 2);
        assertThat(log.truncateTo(30)).isEqualTo(30);
        assertThat(values(readAll(log, 0))).isEqualTo(written.subList(0, 30));
        log.appendAsLeader(batch(30, 2, time.milliseconds()), 1);
        assertThat(values(readAll(log, 0)).subList(28, 32)).containsExactly("v-28", "v-29", "v-30", "v-31");
    }

    @Test
    void truncateInsideABatchDropsTheWholeBatch() {
        log = open(dir, time, Map.of());
        fill(log, time, 3, 4);
        assertThat(log.truncateTo(6)).isEqualTo(4);
        assertThat(log.logEndOffset()).isEqualTo(4);
    }

    @Test
    void truncateBelowTheStartEmptiesTheLogAndRestartsThere() {
        log = open(dir, time, Map.of(LogConfig.RETENTION_MS, "1000"));
        fill(log, time, 3, 2);
        assertThat(log.truncateTo(0)).isZero();
        assertThat(log.logStartOffset()).isZero();
        assertThat(log.size()).isZero();
    }

    /** A compressed batch is validated by decoding it, then stored and served byte for byte as it came. */
    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void compressedBatchesAreKeptAsTheyCame(CompressionType compression) {
        log = open(dir, time, Map.of());
        RecordBatchBuilder builder = new RecordBatchBuilder(compression, TimestampType.CREATE_TIME, 0);
        for (int i = 0; i < 20; i++) {
            builder.append(time.milliseconds(), ("k" + i).getBytes(), ("value " + i).repeat(10).getBytes());
        }
        RecordBatch sent = builder.build();
        ByteBuffer expected = ByteBuffer.allocate(sent.sizeInBytes()).put(sent.buffer().duplicate()).flip();
        RecordBatch.wrap(expected).setPartitionLeaderEpoch(3);

        log.appendAsLeader(sent, 3);

        assertThat(log.read(0, 1 << 20).readFully()).isEqualTo(expected);
        assertThat(readAll(log, 0)).hasSize(20);
    }

    @Test
    void followerAppendKeepsOffsetsAndMustContinueTheLog() {
        log = open(dir, time, Map.of());
        RecordBatch fromLeader = batch(0, 3, time.milliseconds());
        fromLeader.setPartitionLeaderEpoch(4);
        log.appendAsFollower(fromLeader);
        RecordBatch gap = batch(10, 1, time.milliseconds());
        gap.setBaseOffset(10);
        assertThatThrownBy(() -> log.appendAsFollower(gap)).isInstanceOf(MillraceException.class)
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
        assertThat(RecordBatches.split(log.read(0, 1000).readFully()).get(0).partitionLeaderEpoch()).isEqualTo(4);
    }

    @Test
    void rejectsBadBatchesWithoutChangingTheLog() {
        log = open(dir, time, Map.of(LogConfig.MAX_MESSAGE_BYTES, "200"));
        fill(log, time, 1, 1);
        long end = log.logEndOffset();

        assertThat(errorOf(() -> log.appendAsLeader(batch(0, 20, 0), 0))).isEqualTo(ErrorCode.RECORD_TOO_LARGE);

        RecordBatch corrupt = batch(0, 1, 0);
        ByteBuffer bytes = corrupt.buffer();
        bytes.put(bytes.limit() - 1, (byte) (bytes.get(bytes.limit() - 1) ^ 0x5a));
        assertThat(errorOf(() -> log.appendAsLeader(RecordBatch.wrap(bytes), 0))).isEqualTo(ErrorCode.CORRUPT_RECORD);

        // Attribute bits 0-2 = 5: no codec has that id.
        ByteBuffer unknownCodec = batch(0, 1, 0).buffer();
        unknownCodec.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) 5);
        rewriteCrc(unknownCodec);
        assertThat(errorOf(() -> log.appendAsLeader(RecordBatch.wrap(unknownCodec), 0)))
                .isEqualTo(ErrorCode.UNSUPPORTED_COMPRESSION);

        // Labelled Snappy, but the records section is not a Snappy stream.
        ByteBuffer notSnappy = batch(0, 1, 0).buffer();
        notSnappy.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) CompressionType.SNAPPY.id());
        rewriteCrc(notSnappy);
        assertThat(errorOf(() -> log.appendAsLeader(RecordBatch.wrap(notSnappy), 0)))
                .isEqualTo(ErrorCode.CORRUPT_RECORD);

        // A correct checksum over malformed records: the CRC cannot tell, the record walk can.
        ByteBuffer garbage = batch(0, 2, 0).buffer();
        garbage.put(RecordBatch.RECORDS_OFFSET, (byte) 0x7f);
        rewriteCrc(garbage);
        assertThat(RecordBatch.wrap(garbage).isValid()).isTrue();
        assertThat(errorOf(() -> log.appendAsLeader(RecordBatch.wrap(garbage), 0))).isEqualTo(ErrorCode.CORRUPT_RECORD);

        assertThat(log.logEndOffset()).isEqualTo(end);
        assertThat(readAll(log, 0)).hasSize(1);
    }

    @Test
    void flushPolicyByCountFsyncsInTheBackground() throws Exception {
        ExecutorService flusher = Executors.newSingleThreadExecutor();
        try {
            log = PartitionLog.open(dir, LogConfig.from(Map.of(LogConfig.FLUSH_MESSAGES, "10")), time, flusher);
            assertThat(log.flushedOffset()).isZero();
            fill(log, time, 4, 2);
            assertThat(log.flushedOffset()).isZero();
            fill(log, time, 1, 2);
            assertThat(log.flushAsync().get(10, TimeUnit.SECONDS)).isEqualTo(10);
            assertThat(log.flushedOffset()).isEqualTo(10);
        } finally {
            log.close();
            log = null;
            flusher.shutdown();
        }
    }

    @Test
    void flushPolicyByTime() {
        log = open(dir, time, Map.of(LogConfig.FLUSH_MS, "1000"));
        fill(log, time, 2, 1);
        assertThat(log.maybeFlush()).isFalse();
        assertThat(log.flushedOffset()).isZero();
        time.sleep(1000);
        assertThat(log.maybeFlush()).isTrue();
        assertThat(log.flushedOffset()).isEqualTo(2);
        assertThat(log.maybeFlush()).isFalse();
    }

    @Test
    void cleanCloseReopensWithoutRecoveryAndKeepsEverything() {
        log = open(dir, time, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        List<String> written = fill(log, time, 50, 3);
        long end = log.logEndOffset();
        log.close();

        log = open(dir, time, Map.of(LogConfig.SEGMENT_BYTES, "1024"));
        assertThat(log.recoveryReport().cleanShutdown()).isTrue();
        assertThat(log.recoveryReport().segmentsRecovered()).isEmpty();
        assertThat(log.logEndOffset()).isEqualTo(end);
        assertThat(values(readAll(log, 0))).isEqualTo(written);
        List<String> more = fill(log, time, 5, 3);
        List<String> all = new ArrayList<>(written);
        all.addAll(more);
        assertThat(values(readAll(log, 0))).isEqualTo(all);
        assertThat(Files.exists(dir.resolve(PartitionLog.CLEAN_SHUTDOWN_FILE))).isFalse();
    }

    @Test
    void deleteRemovesTheDirectory() {
        log = open(dir.resolve("t-0"), time, Map.of());
        fill(log, time, 3, 1);
        log.delete();
        log = null;
        assertThat(Files.exists(dir.resolve("t-0"))).isFalse();
    }

    static ErrorCode errorOf(Runnable action) {
        try {
            action.run();
        } catch (MillraceException e) {
            return e.errorCode();
        }
        throw new AssertionError("expected a MillraceException");
    }

    static void rewriteCrc(ByteBuffer batch) {
        CRC32C crc = new CRC32C();
        ByteBuffer span = batch.duplicate();
        span.position(RecordBatch.ATTRIBUTES_OFFSET);
        crc.update(span);
        batch.putInt(RecordBatch.CRC_OFFSET, (int) crc.getValue());
    }
}
