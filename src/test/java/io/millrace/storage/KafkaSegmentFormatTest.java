package io.millrace.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ManualTime;
import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.RecordBatches;
import io.millrace.record.TimestampType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Millrace's segment files are Kafka's: for the same batches, Kafka's own {@code LogSegment} writes the same bytes
 * to the {@code .log}, {@code .index} and {@code .timeindex} files; Millrace opens what Kafka wrote without
 * rebuilding anything; Kafka's {@code DumpLogSegments} finds nothing to report in what Millrace wrote; and an index
 * of earlier Millrace builds (keyed on batch base offsets) is rebuilt once, at open.
 */
class KafkaSegmentFormatTest {

    private static final int INDEX_INTERVAL_BYTES = 200;
    private static final Map<String, String> ONE_SEGMENT = Map.of(
            LogConfig.INDEX_INTERVAL_BYTES, Integer.toString(INDEX_INTERVAL_BYTES));
    private static final Map<String, String> SEVERAL_SEGMENTS = Map.of(LogConfig.SEGMENT_BYTES, "1536",
            LogConfig.INDEX_INTERVAL_BYTES, Integer.toString(INDEX_INTERVAL_BYTES));
    private static final String FIRST_SEGMENT = LogSegment.fileName(0, "");

    @TempDir
    Path tmp;

    private final ManualTime time = new ManualTime();

    @Test
    void kafkaWritesTheSameSegmentFilesForTheSameBatches() throws IOException {
        Path millrace = tmp.resolve("millrace");
        writeMillraceLog(millrace, ONE_SEGMENT, 40);
        Path kafka = tmp.resolve("kafka");

        writeWithKafka(kafka, batchesOf(millrace.resolve(FIRST_SEGMENT + LogSegment.LOG_SUFFIX)));

        assertThat(entries(millrace.resolve(FIRST_SEGMENT + OffsetIndex.SUFFIX), 8))
                .as("offset index entries").isGreaterThan(10);
        for (String suffix : List.of(LogSegment.LOG_SUFFIX, OffsetIndex.SUFFIX, TimeIndex.SUFFIX)) {
            assertThat(Files.readAllBytes(millrace.resolve(FIRST_SEGMENT + suffix)))
                    .as("%s written by Millrace and by Kafka", suffix)
                    .isEqualTo(Files.readAllBytes(kafka.resolve(FIRST_SEGMENT + suffix)));
        }
    }

    @Test
    void segmentsKafkaWroteOpenWithoutRebuildingTheirIndexes() throws IOException {
        Path millrace = tmp.resolve("millrace");
        List<String> values = writeMillraceLog(millrace, ONE_SEGMENT, 40);
        Path kafka = tmp.resolve("kafka");
        writeWithKafka(kafka, batchesOf(millrace.resolve(FIRST_SEGMENT + LogSegment.LOG_SUFFIX)));
        byte[] kafkaIndex = Files.readAllBytes(kafka.resolve(FIRST_SEGMENT + OffsetIndex.SUFFIX));
        byte[] kafkaTimeIndex = Files.readAllBytes(kafka.resolve(FIRST_SEGMENT + TimeIndex.SUFFIX));
        // Millrace's clean-shutdown marker: without it the last segment is validated whole, indexes rebuilt.
        Files.createFile(kafka.resolve(PartitionLog.CLEAN_SHUTDOWN_FILE));

        PartitionLog log = LogFixture.open(kafka, time, ONE_SEGMENT);
        try {
            assertThat(log.recoveryReport().segmentsRecovered()).as("segments whose indexes were rebuilt").isEmpty();
            assertThat(LogFixture.values(LogFixture.readAll(log, 0))).isEqualTo(values);
        } finally {
            log.close();
        }
        assertThat(Files.readAllBytes(kafka.resolve(FIRST_SEGMENT + OffsetIndex.SUFFIX))).isEqualTo(kafkaIndex);
        assertThat(Files.readAllBytes(kafka.resolve(FIRST_SEGMENT + TimeIndex.SUFFIX))).isEqualTo(kafkaTimeIndex);
    }

    @Test
    void indexesKeyedOnBaseOffsetsAreRebuiltOnceAtOpen() throws IOException {
        Path dir = tmp.resolve("log");
        List<String> values = writeMillraceLog(dir, SEVERAL_SEGMENTS, 60);
        List<Path> indexes = files(dir, OffsetIndex.SUFFIX);
        Map<Path, byte[]> asWritten = new HashMap<>();
        for (Path index : indexes) {
            asWritten.put(index, Files.readAllBytes(index));
            rekeyOnBaseOffsets(index);
        }
        assertThat(indexes.stream().filter(i -> !Arrays.equals(asWritten.get(i), read(i))))
                .as("indexes that an earlier build would have written differently").hasSizeGreaterThan(3);

        PartitionLog log = LogFixture.open(dir, time, SEVERAL_SEGMENTS);
        try {
            assertThat(log.recoveryReport().cleanShutdown()).isTrue();
            assertThat(log.recoveryReport().segmentsRecovered()).as("segments whose indexes were rebuilt")
                    .hasSizeGreaterThan(3);
            assertThat(LogFixture.values(LogFixture.readAll(log, 0))).isEqualTo(values);
        } finally {
            log.close();
        }
        for (Path index : indexes) {
            assertThat(read(index)).as("%s rebuilt", index).isEqualTo(asWritten.get(index));
        }
        PartitionLog again = LogFixture.open(dir, time, SEVERAL_SEGMENTS);
        try {
            assertThat(again.recoveryReport().segmentsRecovered()).as("rebuilt only once").isEmpty();
        } finally {
            again.close();
        }
    }

    @Test
    void aTruncationOntoAnEntryKeyedOnABaseOffsetRebuildsTheIndexes() throws IOException {
        Path dir = tmp.resolve("log");
        List<String> values = writeMillraceLog(dir, ONE_SEGMENT, 40);
        Path index = dir.resolve(FIRST_SEGMENT + OffsetIndex.SUFFIX);
        int entries = entries(index, 8);
        // Only entries between the first and the last keyed the old way: the index passes the check at open.
        rekeyOnBaseOffsets(index, n -> n > 0 && n < entries - 1);
        ByteBuffer logFile = ByteBuffer.wrap(read(dir.resolve(FIRST_SEGMENT + LogSegment.LOG_SUFFIX)));
        int nextEntryPosition = ByteBuffer.wrap(read(index)).getInt(8 * (entries / 2 + 1) + 4);
        long cutAt = logFile.getLong(nextEntryPosition);

        PartitionLog log = LogFixture.open(dir, time, ONE_SEGMENT);
        try {
            assertThat(log.recoveryReport().segmentsRecovered()).isEmpty();
            // Cuts the batch of entry entries/2 + 1, which leaves the one before it, keyed the old way, last.
            assertThat(log.truncateTo(cutAt)).isEqualTo(cutAt);
            assertThat(LogFixture.values(LogFixture.readAll(log, 0))).isEqualTo(values.subList(0, (int) cutAt));
            log.appendAsLeader(LogFixture.batch((int) cutAt, 3, time.milliseconds()), 3);
            assertThat(log.logEndOffset()).isEqualTo(cutAt + 3);
        } finally {
            log.close();
        }
        assertThat(LogFixture.assertOffsetIndexesKeyedOnLastOffsets(dir)).isGreaterThan(entries / 2);
    }

    @Test
    void kafkaDumpLogSegmentsVerifiesEverySegmentMillraceWrote() throws Exception {
        Path dir = tmp.resolve("log");
        writeMillraceLog(dir, SEVERAL_SEGMENTS, 80);
        assertThat(files(dir, LogSegment.LOG_SUFFIX)).as("segments").hasSizeGreaterThan(3);

        DumpResult clean = dumpLogSegments("--verify-index-only", dir, LogSegment.LOG_SUFFIX, OffsetIndex.SUFFIX,
                TimeIndex.SUFFIX);
        DumpResult sanity = dumpLogSegments("--index-sanity-check", dir, OffsetIndex.SUFFIX, TimeIndex.SUFFIX);

        assertThat(clean.exitCode()).as(clean.output()).isZero();
        assertThat(clean.output()).as("every file was dumped")
                .contains(FIRST_SEGMENT + OffsetIndex.SUFFIX, FIRST_SEGMENT + TimeIndex.SUFFIX);
        assertThat(clean.output().toLowerCase()).as("DumpLogSegments found nothing to report")
                .doesNotContain("mismatch", "not found", "non-consecutive", "exception", "error");
        assertThat(sanity.exitCode()).as(sanity.output()).isZero();
        assertThat(sanity.output().lines().filter(line -> line.endsWith("passed sanity check.")))
                .as("indexes passing the check Kafka's broker makes before trusting them (%s)", sanity.output())
                .hasSize(files(dir, OffsetIndex.SUFFIX).size() + files(dir, TimeIndex.SUFFIX).size());

        // The same check fails on what earlier builds wrote, so a pass above means something.
        rekeyOnBaseOffsets(files(dir, OffsetIndex.SUFFIX).get(1));
        DumpResult old = dumpLogSegments("--verify-index-only", dir, OffsetIndex.SUFFIX);
        assertThat(old.output().toLowerCase()).as(old.output()).contains("mismatch");
    }

    /**
     * Appends {@code count} batches of 2 to 6 records, compressed with each codec in turn, and closes the log; returns
     * the values written.
     */
    private List<String> writeMillraceLog(Path dir, Map<String, String> config, int count) {
        PartitionLog log = LogFixture.open(dir, time, config);
        List<String> values = new ArrayList<>();
        try {
            CompressionType[] codecs = CompressionType.values();
            for (int b = 0; b < count; b++) {
                int records = 2 + b % 5;
                RecordBatchBuilder builder = new RecordBatchBuilder(codecs[b % codecs.length],
                        TimestampType.CREATE_TIME, 0);
                for (int i = 0; i < records; i++) {
                    String value = "value-" + values.size();
                    // Timestamps not in offset order inside a batch, as producers may send them.
                    builder.append(time.milliseconds() + (i * 7L) % 5, ("key-" + i).getBytes(StandardCharsets.UTF_8),
                            value.getBytes(StandardCharsets.UTF_8));
                    values.add(value);
                }
                log.appendAsLeader(builder.build(), 3);
                time.sleep(b % 4 == 0 ? 0 : 10);
            }
        } finally {
            log.close();
        }
        return values;
    }

    /** Appends each batch, as written, to a segment of Kafka's own storage code, with Millrace's index interval. */
    private static void writeWithKafka(Path dir, List<RecordBatch> batches) throws IOException {
        Files.createDirectories(dir);
        org.apache.kafka.storage.internals.log.LogConfig config = new org.apache.kafka.storage.internals.log.LogConfig(
                Map.of("index.interval.bytes", Integer.toString(INDEX_INTERVAL_BYTES)));
        try (org.apache.kafka.storage.internals.log.LogSegment segment =
                     org.apache.kafka.storage.internals.log.LogSegment.open(dir.toFile(), 0, config, Time.SYSTEM, 0,
                             false)) {
            for (RecordBatch batch : batches) {
                segment.append(batch.lastOffset(), MemoryRecords.readableRecords(batch.buffer()));
            }
        }
    }

    private record DumpResult(int exitCode, String output) {
    }

    /**
     * Runs Kafka's {@code kafka.tools.DumpLogSegments} with {@code option} over the files of {@code dir} with the
     * given suffixes, in a JVM of its own: the tool ends with {@code Exit}, which would end this one.
     */
    private DumpResult dumpLogSegments(String option, Path dir, String... suffixes)
            throws IOException, InterruptedException {
        String files = Stream.of(suffixes).flatMap(suffix -> files(dir, suffix).stream()).map(Path::toString)
                .collect(Collectors.joining(","));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path output = tmp.resolve("dump-" + System.nanoTime() + ".txt");
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "kafka.tools.DumpLogSegments", option, "--files", files)
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("DumpLogSegments finished").isTrue();
            return new DumpResult(process.exitValue(), Files.readString(output));
        } finally {
            process.destroyForcibly();
        }
    }

    /** Rewrites each entry's key to the base offset of its batch, as Millrace wrote indexes before. */
    private static void rekeyOnBaseOffsets(Path index) throws IOException {
        rekeyOnBaseOffsets(index, n -> true);
    }

    /** Rewrites the keys of the entries {@code which} accepts (by entry number) to the base offset of their batch. */
    private static void rekeyOnBaseOffsets(Path index, IntPredicate which) throws IOException {
        long segmentBase = Long.parseLong(index.getFileName().toString().replace(OffsetIndex.SUFFIX, ""));
        ByteBuffer entries = ByteBuffer.wrap(Files.readAllBytes(index));
        ByteBuffer log = ByteBuffer.wrap(read(Path.of(index.toString().replace(OffsetIndex.SUFFIX,
                LogSegment.LOG_SUFFIX))));
        for (int n = 0; 8 * n + 8 <= entries.limit(); n++) {
            if (which.test(n)) {
                long batchBase = log.getLong(entries.getInt(8 * n + 4));
                entries.putInt(8 * n, (int) (batchBase - segmentBase));
            }
        }
        Files.write(index, entries.array());
    }

    private static List<RecordBatch> batchesOf(Path logFile) {
        return RecordBatches.split(ByteBuffer.wrap(read(logFile)));
    }

    private static int entries(Path index, int entrySize) throws IOException {
        return (int) (Files.size(index) / entrySize);
    }

    private static List<Path> files(Path dir, String suffix) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.toString().endsWith(suffix)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
