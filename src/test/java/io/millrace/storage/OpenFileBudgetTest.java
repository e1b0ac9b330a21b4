package io.millrace.storage;

import static io.millrace.storage.LogFixture.DIRECT;
import static io.millrace.storage.LogFixture.batch;
import static io.millrace.storage.LogFixture.readAll;
import static io.millrace.storage.LogFixture.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.millrace.common.ManualTime;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many partition logs sharing a small {@link OpenFileBudget}: the process never holds more segment files open than
 * the budget allows (plus the segments other threads are opening at that moment), whatever the logs do, and closing
 * files for the budget loses nothing: every record reads back, through clean restarts and crashes.
 *
 * <p>Open files are counted where the kernel keeps them, in {@code /proc/self/fd}, so the test runs on Linux only.
 * The logs live on a tmpfs: they fsync at every roll, open and close, which on a shared disk would make the test slow
 * without testing anything it is about.
 */
class OpenFileBudgetTest {

    /** Room for four segments. */
    private static final int BUDGET_FILES = 4 * OpenFileBudget.FILES_PER_SEGMENT;
    private static final int LOGS = 50;
    /** About seven batches per segment and an index entry per batch: logs roll often and use both indexes. */
    private static final Map<String, String> SMALL_SEGMENTS = Map.of(LogConfig.SEGMENT_BYTES, "1024",
            LogConfig.INDEX_INTERVAL_BYTES, "0", LogConfig.SEGMENT_INDEX_BYTES, "8192");

    @TempDir
    Path tempDir;

    private Tmpfs disk;
    private Path root;
    private final ManualTime time = new ManualTime();
    private final List<PartitionLog> toRelease = new ArrayList<>();
    private ExecutorService threads;

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(SegmentDescriptors.countable(), "counts descriptors through /proc/self/fd");
        disk = Tmpfs.mount(tempDir, "64m");
        root = disk.dir().toRealPath();
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (threads != null) {
            threads.shutdownNow();
            threads.awaitTermination(10, TimeUnit.SECONDS);
        }
        try {
            toRelease.forEach(PartitionLog::abandon);
        } finally {
            if (disk != null) {
                disk.close();
            }
        }
    }

    @Test
    void theDefaultBudgetIsHalfTheDescriptorLimitWithinHalfTheMappingLimit() throws IOException {
        long descriptors = ((com.sun.management.UnixOperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getMaxFileDescriptorCount();
        long mappings = Long.parseLong(Files.readAllLines(Path.of("/proc/sys/vm/max_map_count")).get(0).trim());
        long segmentsByMappings = mappings / 2 / OpenFileBudget.MAPPINGS_PER_SEGMENT;

        assertThat(OpenFileBudget.defaultMaxOpenFiles()).isEqualTo((int) Math.max(OpenFileBudget.FILES_PER_SEGMENT,
                Math.min(descriptors / 2, segmentsByMappings * OpenFileBudget.FILES_PER_SEGMENT)));
    }

    @Test
    void thirtyLogsKeepNoMoreThanTheBudgetOpen() {
        int maxOpenFiles = 3 * OpenFileBudget.FILES_PER_SEGMENT;
        OpenFileBudget budget = new OpenFileBudget(maxOpenFiles);
        List<PartitionLog> logs = openLogs(30, budget);
        for (PartitionLog log : logs) {
            log.appendAsLeader(batch((int) log.logEndOffset(), 3, time.milliseconds()), 0);
            assertThat(openSegmentFiles()).as("files open after an append, with nobody else using any")
                    .isLessThanOrEqualTo(maxOpenFiles);
        }

        assertThat(budget.openSegments()).isEqualTo(3);
        assertThat(budget.closes()).as("30 active segments through a budget of 3").isGreaterThanOrEqualTo(27);
        for (PartitionLog log : logs) {
            assertThat(values(readAll(log, 0))).containsExactly("v-0", "v-1", "v-2");
        }
        logs.forEach(PartitionLog::close);
        assertThat(openSegmentFiles()).isZero();
        assertThat(budget.openSegments()).isZero();
    }

    @Test
    void logsTakingTurnsWithASliceReaderOnAnotherThreadStayWithinTheBudgetAndLoseNothing() throws Exception {
        OpenFileBudget budget = new OpenFileBudget(BUDGET_FILES);
        List<PartitionLog> logs = openLogs(LOGS, budget);
        List<List<String>> written = new ArrayList<>();
        logs.forEach(log -> written.add(new ArrayList<>()));
        // The owner's thread (this one) and the reader: each may be opening one segment while the other counts.
        int bound = BUDGET_FILES + OpenFileBudget.FILES_PER_SEGMENT;
        BlockingQueue<LogSlice> slices = new ArrayBlockingQueue<>(16);
        LogSlice endOfSlices = LogSlice.empty(-1);
        AtomicInteger slicesRead = new AtomicInteger();
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try {
                for (LogSlice slice = slices.take(); slice != endOfSlices; slice = slices.take()) {
                    assertThat(slice.isStillValid()).as("a slice of %s after its files were closed", slice).isTrue();
                    List<RecordBatch> batches = RecordBatches.split(slice.readFully());
                    assertThat(batches).isNotEmpty().allMatch(RecordBatch::isValid);
                    assertThat(batches.get(0).baseOffset()).isEqualTo(slice.firstOffset());
                    assertThat(openSegmentFiles()).isLessThanOrEqualTo(bound);
                    slicesRead.incrementAndGet();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, threads);

        int slicesHanded = 0;
        for (int round = 0; round < 15; round++) {
            for (int i = 0; i < LOGS; i++) {
                PartitionLog log = logs.get(i);
                int first = (int) log.logEndOffset();
                log.appendAsLeader(batch(first, 5, time.milliseconds()), 0);
                for (int r = 0; r < 5; r++) {
                    written.get(i).add("v-" + (first + r));
                }
                // Old records of the log written before this one: a segment long closed for the budget.
                PartitionLog other = logs.get((i + LOGS - 1) % LOGS);
                LogSlice slice = other.read(other.logStartOffset() + round, 4096);
                if (!slice.isEmpty()) {
                    hand(slices, slice);
                    slicesHanded++;
                }
                assertThat(openSegmentFiles()).isLessThanOrEqualTo(bound);
            }
            time.sleep(1);
        }
        hand(slices, endOfSlices);
        reader.get(30, TimeUnit.SECONDS);

        assertThat(slicesRead).hasValue(slicesHanded).hasValueGreaterThan(14 * LOGS);
        assertThat(budget.closes()).as("segments closed for the budget").isGreaterThan(500);
        assertThat(logs.get(0).segmentCount()).as("each log rolled").isGreaterThan(2);
        assertEveryRecordReadsBack(logs, written, bound);

        logs.forEach(PartitionLog::close);
        List<PartitionLog> reopened = openLogs(LOGS, budget);
        for (PartitionLog log : reopened) {
            assertThat(log.recoveryReport().cleanShutdown()).isTrue();
            assertThat(log.recoveryReport().segmentsRecovered())
                    .as("indexes trimmed and consistent after a clean close, though the budget closed them often")
                    .isEmpty();
        }
        assertEveryRecordReadsBack(reopened, written, bound);

        // A crash: the logs are never closed, and opened again beside their running selves.
        toRelease.addAll(reopened);
        List<PartitionLog> recovered = openLogs(LOGS, budget);
        for (PartitionLog log : recovered) {
            assertThat(log.recoveryReport().cleanShutdown()).isFalse();
            assertThat(log.recoveryReport().lostData()).isFalse();
        }
        assertEveryRecordReadsBack(recovered, written, bound);
        recovered.forEach(PartitionLog::close);
    }

    @Test
    void ownersOnTwoThreadsAndASliceReaderNeverUseFilesTheBudgetClosed() throws Exception {
        OpenFileBudget budget = new OpenFileBudget(BUDGET_FILES);
        List<PartitionLog> logs = openLogs(LOGS, budget);
        int owners = 2;
        // Each of the three threads may be opening one segment while another counts, and each may be holding one
        // that the budget cannot close until it is done.
        int bound = BUDGET_FILES + 3 * OpenFileBudget.FILES_PER_SEGMENT;
        BlockingQueue<LogSlice> slices = new ArrayBlockingQueue<>(64);
        LogSlice endOfSlices = LogSlice.empty(-1);
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try {
                int ends = 0;
                while (ends < owners) {
                    LogSlice slice = slices.take();
                    if (slice == endOfSlices) {
                        ends++;
                        continue;
                    }
                    assertThat(RecordBatches.split(slice.readFully())).allMatch(RecordBatch::isValid);
                    assertThat(openSegmentFiles()).isLessThanOrEqualTo(bound);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, threads);
        List<CompletableFuture<Void>> ownerRuns = new ArrayList<>();
        for (int owner = 0; owner < owners; owner++) {
            List<PartitionLog> own = logs.subList(owner * LOGS / owners, (owner + 1) * LOGS / owners);
            ManualTime clock = new ManualTime();
            ownerRuns.add(CompletableFuture.runAsync(() -> {
                try {
                    for (int round = 0; round < 16; round++) {
                        for (PartitionLog log : own) {
                            log.appendAsLeader(batch((int) log.logEndOffset(), 5, clock.milliseconds()), 0);
                            // Index lookups on the owner's thread while the other owner closes segments.
                            long middle = log.logStartOffset() + (log.logEndOffset() - log.logStartOffset()) / 2;
                            assertThat(log.read(middle, 512).firstOffset()).isLessThanOrEqualTo(middle);
                            assertThat(log.offsetForTimestamp(clock.milliseconds())).isPresent();
                            hand(slices, log.read(log.logStartOffset(), 2048));
                            assertThat(openSegmentFiles()).isLessThanOrEqualTo(bound);
                            clock.sleep(1);
                        }
                    }
                    hand(slices, endOfSlices);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, threads));
        }
        for (CompletableFuture<Void> run : ownerRuns) {
            run.get(60, TimeUnit.SECONDS);
        }
        reader.get(30, TimeUnit.SECONDS);

        for (PartitionLog log : logs) {
            assertThat(readAll(log, 0)).hasSize(16 * 5);
            log.close();
        }
        assertThat(openSegmentFiles()).isZero();
    }

    @Test
    void anActiveSegmentClosedForTheBudgetKeepsItsPreallocatedIndexesAndFlushesWhatItWrote() throws IOException {
        OpenFileBudget budget = new OpenFileBudget(OpenFileBudget.FILES_PER_SEGMENT);
        Map<String, String> config = Map.of(LogConfig.INDEX_INTERVAL_BYTES, "0", LogConfig.SEGMENT_INDEX_BYTES,
                "8192");
        Path firstDir = root.resolve("first");
        PartitionLog first = PartitionLog.open(firstDir, LogConfig.from(config), time, DIRECT, budget);
        first.appendAsLeader(batch(0, 2, time.milliseconds()), 0);
        first.appendAsLeader(batch(2, 2, time.milliseconds()), 0);
        PartitionLog second = PartitionLog.open(root.resolve("second"), LogConfig.from(config), time, DIRECT, budget);
        second.appendAsLeader(batch(0, 1, time.milliseconds()), 0);

        Path index = firstDir.resolve(LogSegment.fileName(0, OffsetIndex.SUFFIX));
        assertThat(openSegmentFiles()).as("only the second log's segment").isEqualTo(3);
        assertThat(Files.size(index)).as("still pre-allocated while closed").isEqualTo(8192);
        assertThat(first.flush()).as("reopened to force what it wrote").isEqualTo(4);

        first.appendAsLeader(batch(4, 2, time.milliseconds()), 0);
        assertThat(Files.size(index)).isEqualTo(8192);
        assertThat(values(readAll(first, 0))).containsExactly("v-0", "v-1", "v-2", "v-3", "v-4", "v-5");
        assertThat(first.offsetForTimestamp(time.milliseconds()).orElseThrow().offset()).isZero();
        first.close();
        second.close();
        assertThat(Files.size(index)).as("trimmed to its entries on close").isEqualTo(2 * 8);

        PartitionLog reopened = PartitionLog.open(firstDir, LogConfig.from(config), time, DIRECT, budget);
        assertThat(reopened.recoveryReport().segmentsRecovered()).isEmpty();
        assertThat(values(readAll(reopened, 3))).containsExactly("v-3", "v-4", "v-5");
        reopened.close();
    }

    /** Hands a slice to the reader; fails rather than waits forever if the reader stopped on a failed assertion. */
    private static void hand(BlockingQueue<LogSlice> slices, LogSlice slice) throws InterruptedException {
        assertThat(slices.offer(slice, 30, TimeUnit.SECONDS)).as("the reader takes slices").isTrue();
    }

    private List<PartitionLog> openLogs(int count, OpenFileBudget budget) {
        List<PartitionLog> logs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            logs.add(PartitionLog.open(root.resolve("t-" + i), LogConfig.from(SMALL_SEGMENTS), time, DIRECT, budget));
            assertThat(openSegmentFiles()).isLessThanOrEqualTo(budget.maxOpenFiles());
        }
        return logs;
    }

    private void assertEveryRecordReadsBack(List<PartitionLog> logs, List<List<String>> written, int bound) {
        for (int i = 0; i < logs.size(); i++) {
            assertThat(values(readAll(logs.get(i), 0))).as("log %d", i).isEqualTo(written.get(i));
            assertThat(openSegmentFiles()).isLessThanOrEqualTo(bound);
        }
    }

    /** Descriptors of this process open on a segment file (log or index) under the test's directory. */
    private int openSegmentFiles() {
        return SegmentDescriptors.open("self", root);
    }
}
