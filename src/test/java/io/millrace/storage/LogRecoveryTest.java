package io.millrace.storage;

import static io.millrace.storage.LogFixture.batch;
import static io.millrace.storage.LogFixture.readAll;
import static io.millrace.storage.LogFixture.values;
import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ManualTime;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Crash simulations: a log is written and then abandoned as a killed process leaves it (no flush, indexes untrimmed,
 * no clean-shutdown marker); its files are damaged; reopening must keep exactly the longest valid prefix, and appends
 * must continue from there.
 */
class LogRecoveryTest {

    private static final Map<String, String> CONFIG = Map.of(LogConfig.SEGMENT_BYTES, "2048",
            LogConfig.INDEX_INTERVAL_BYTES, "256");

    @TempDir
    Path tmp;

    private final ManualTime time = new ManualTime();
    private Path pristine;
    /** Every value written, in offset order. */
    private final List<String> written = new ArrayList<>();

    @BeforeEach
    void writeAndCrash() {
        pristine = tmp.resolve("pristine");
        PartitionLog log = LogFixture.open(pristine, time, CONFIG);
        Random random = new Random(42);
        for (int b = 0; b < 60; b++) {
            int count = 1 + random.nextInt(5);
            log.appendAsLeader(batch(written.size(), count, time.milliseconds()), 0);
            for (int i = 0; i < count; i++) {
                written.add("v-" + (written.size()));
            }
            time.sleep(3);
        }
        assertThat(log.segmentCount()).isGreaterThanOrEqualTo(4);
        log.abandon();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
    void cutAtRandomPositionsKeepsEveryWholeBatchBeforeTheCut(int seed) throws IOException {
        Random random = new Random(seed);
        Path active = segmentFiles(pristine).get(segmentFiles(pristine).size() - 1);
        long fileSize = Files.size(active);
        java.util.SortedSet<Long> positions = new java.util.TreeSet<>(List.of(0L, fileSize - 1));
        IntStream.range(0, 6).forEach(i -> positions.add((long) random.nextInt((int) fileSize)));
        positions.addAll(batchEnds(active).subList(0, Math.min(2, batchEnds(active).size())));

        for (long cut : positions) {
            Path dir = copyOf(pristine, "cut-" + seed + "-" + cut);
            Path file = dir.resolve(active.getFileName());
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.truncate(cut);
            }
            long expectedEnd = expectedEndAfterKeepingBytes(active, cut);
            assertRecoversTo(dir, expectedEnd);
        }
    }

    @ParameterizedTest(name = "{0} garbage bytes")
    @ValueSource(ints = {1, 11, 12, 60, 61, 62, 500, 5000})
    void garbageAfterTheLastBatchIsCut(int garbageBytes) throws IOException {
        Path dir = copyOf(pristine, "garbage-" + garbageBytes);
        Path active = segmentFiles(dir).get(segmentFiles(dir).size() - 1);
        byte[] garbage = new byte[garbageBytes];
        new Random(garbageBytes).nextBytes(garbage);
        Files.write(active, garbage, StandardOpenOption.APPEND);

        PartitionLog log = LogFixture.open(dir, time, CONFIG);
        assertThat(log.recoveryReport().bytesTruncated()).isEqualTo(garbageBytes);
        assertThat(values(readAll(log, 0))).isEqualTo(written);
        assertAppendsContinue(log);
    }

    @Test
    void aPlausibleHeaderWithABadChecksumIsCut() throws IOException {
        Path dir = copyOf(pristine, "fake-header");
        Path active = segmentFiles(dir).get(segmentFiles(dir).size() - 1);
        RecordBatch fake = batch(0, 2, time.milliseconds());
        fake.setBaseOffset(written.size());
        ByteBuffer bytes = fake.buffer();
        bytes.put(bytes.limit() - 2, (byte) ~bytes.get(bytes.limit() - 2));
        Files.write(active, toArray(bytes), StandardOpenOption.APPEND);

        assertRecoversTo(dir, written.size());
    }

    static Stream<Integer> batchIndexes() {
        return Stream.of(0, 1, 2, 3, 5, 8);
    }

    @ParameterizedTest(name = "flip a byte in batch {0} of the active segment")
    @MethodSource("batchIndexes")
    void aFlippedByteInsideABatchCutsTheLogBeforeThatBatch(int batchIndex) throws IOException {
        Path active = segmentFiles(pristine).get(segmentFiles(pristine).size() - 1);
        List<Long> ends = batchEnds(active);
        int index = Math.min(batchIndex, ends.size() - 1);
        long start = index == 0 ? 0 : ends.get(index - 1);
        long end = ends.get(index);
        Random random = new Random(batchIndex);
        for (int attempt = 0; attempt < 5; attempt++) {
            long at = checksummedOrStructuralPosition(random, start, end);
            Path dir = copyOf(pristine, "flip-" + batchIndex + "-" + attempt);
            flipByte(dir.resolve(active.getFileName()), at);
            assertRecoversTo(dir, expectedEndAfterKeepingBytes(active, start));
        }
    }

    @Test
    void damageInAnOlderSegmentIsFoundWithoutACheckpointAndLaterSegmentsGo() throws IOException {
        Path dir = copyOf(pristine, "old-damage");
        Files.delete(dir.resolve(PartitionLog.RECOVERY_CHECKPOINT_FILE));
        List<Path> files = segmentFiles(dir);
        Path second = files.get(1);
        List<Long> ends = batchEnds(second);
        flipByte(second, ends.get(1) + RecordBatch.HEADER_SIZE + 3);

        PartitionLog log = LogFixture.open(dir, time, CONFIG);
        assertThat(log.recoveryReport().segmentsDeleted()).hasSize(files.size() - 2);
        assertThat(log.segmentCount()).isEqualTo(2);
        long expectedEnd = expectedEndAfterKeepingBytes(second, ends.get(1));
        assertThat(log.logEndOffset()).isEqualTo(expectedEnd);
        assertThat(values(readAll(log, 0))).isEqualTo(written.subList(0, (int) expectedEnd));
        assertAppendsContinue(log);
    }

    @Test
    void aMissingMiddleSegmentEndsTheLogBeforeTheGap() throws IOException {
        Path dir = copyOf(pristine, "gap");
        List<Path> files = segmentFiles(dir);
        long secondBase = baseOf(files.get(1));
        Files.delete(files.get(1));

        PartitionLog log = LogFixture.open(dir, time, CONFIG);
        assertThat(log.logEndOffset()).isEqualTo(secondBase);
        assertThat(values(readAll(log, 0))).isEqualTo(written.subList(0, (int) secondBase));
        assertAppendsContinue(log);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"delete-old", "garbage-old", "delete-active", "garbage-active", "zero-old"})
    void aMissingOrCorruptIndexIsRebuiltAfterACleanShutdown(String damage) throws IOException {
        Path dir = copyOf(pristine, "index-" + damage);
        LogFixture.open(dir, time, CONFIG).close();
        List<Path> files = segmentFiles(dir);
        Path segment = damage.endsWith("old") ? files.get(1) : files.get(files.size() - 1);
        Path index = Path.of(segment.toString().replace(".log", OffsetIndex.SUFFIX));
        Path timeIndex = Path.of(segment.toString().replace(".log", TimeIndex.SUFFIX));
        switch (damage.substring(0, damage.indexOf('-'))) {
            case "delete" -> Files.delete(index);
            case "garbage" -> {
                byte[] garbage = new byte[Math.max(24, (int) Files.size(index))];
                new Random(7).nextBytes(garbage);
                Files.write(index, garbage);
                Files.write(timeIndex, garbage);
            }
            default -> Files.write(index, new byte[(int) Math.max(16, Files.size(index))]);
        }

        PartitionLog log = LogFixture.open(dir, time, CONFIG);
        assertThat(log.recoveryReport().cleanShutdown()).isTrue();
        assertThat(log.recoveryReport().segmentsRecovered()).containsExactly(baseOf(segment));
        assertThat(log.recoveryReport().lostData()).isFalse();
        assertThat(values(readAll(log, 0))).isEqualTo(written);
        for (long offset = 0; offset < written.size(); offset++) {
            LogSlice slice = log.read(offset, 1);
            assertThat(slice.firstOffset()).isLessThanOrEqualTo(offset);
            assertThat(slice.nextOffset()).isGreaterThan(offset);
        }
        assertAppendsContinue(log);
    }

    @Test
    void anUncleanShutdownWithIntactFilesLosesNothing() {
        PartitionLog log = LogFixture.open(copyOf(pristine, "intact"), time, CONFIG);
        assertThat(log.recoveryReport().cleanShutdown()).isFalse();
        assertThat(log.recoveryReport().segmentsRecovered()).isNotEmpty();
        assertThat(log.recoveryReport().lostData()).isFalse();
        assertThat(values(readAll(log, 0))).isEqualTo(written);
        assertAppendsContinue(log);
    }

    /** Reopens {@code dir}, checks it holds exactly the first {@code expectedEnd} records, appends, crashes again. */
    private void assertRecoversTo(Path dir, long expectedEnd) {
        PartitionLog log = LogFixture.open(dir, time, CONFIG);
        assertThat(log.logEndOffset()).as("log end after recovery of %s", dir).isEqualTo(expectedEnd);
        assertThat(values(readAll(log, 0))).isEqualTo(written.subList(0, (int) expectedEnd));
        assertAppendsContinue(log);
    }

    /** Appends after recovery land right after the kept prefix and survive another crash. */
    private void assertAppendsContinue(PartitionLog log) {
        long end = log.logEndOffset();
        List<String> expected = new ArrayList<>(values(readAll(log, 0)));
        log.appendAsLeader(batch((int) end, 2, time.milliseconds()), 1);
        expected.add("v-" + end);
        expected.add("v-" + (end + 1));
        assertThat(values(readAll(log, 0))).isEqualTo(expected);
        Path dir = log.dir();
        log.abandon();
        PartitionLog reopened = LogFixture.open(dir, time, CONFIG);
        assertThat(values(readAll(reopened, 0))).isEqualTo(expected);
        reopened.close();
    }

    /** The log end offset expected when only the first {@code keptBytes} of {@code segment} are valid. */
    private static long expectedEndAfterKeepingBytes(Path segment, long keptBytes) throws IOException {
        long end = baseOf(segment);
        long position = 0;
        for (RecordBatch batch : RecordBatches.split(ByteBuffer.wrap(Files.readAllBytes(segment)))) {
            position += batch.sizeInBytes();
            if (position > keptBytes) {
                break;
            }
            end = batch.lastOffset() + 1;
        }
        return end;
    }

    private static List<Long> batchEnds(Path segment) throws IOException {
        List<Long> ends = new ArrayList<>();
        long position = 0;
        for (RecordBatch batch : RecordBatches.split(ByteBuffer.wrap(Files.readAllBytes(segment)))) {
            position += batch.sizeInBytes();
            ends.add(position);
        }
        return ends;
    }

    /**
     * A byte whose change recovery must notice: anything but the partition leader epoch, which (as in Kafka) lies
     * outside the CRC and is rewritten by the broker.
     */
    private static long checksummedOrStructuralPosition(Random random, long start, long end) {
        while (true) {
            long at = start + random.nextInt((int) (end - start));
            long relative = at - start;
            if (relative < RecordBatch.PARTITION_LEADER_EPOCH_OFFSET || relative >= RecordBatch.MAGIC_OFFSET) {
                return at;
            }
        }
    }

    private static void flipByte(Path file, long position) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x10)).rewind();
            channel.write(one, position);
        }
    }

    private static List<Path> segmentFiles(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long baseOf(Path segment) {
        String name = segment.getFileName().toString();
        return Long.parseLong(name.substring(0, name.indexOf('.')));
    }

    private Path copyOf(Path source, String name) {
        Path target = tmp.resolve(name);
        try (Stream<Path> files = Files.walk(source)) {
            for (Path file : files.sorted(Comparator.naturalOrder()).toList()) {
                Files.copy(file, target.resolve(source.relativize(file).toString()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }

    private static byte[] toArray(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }
}
