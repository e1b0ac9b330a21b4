package io.millrace.storage;

import static io.millrace.storage.LogFixture.batch;
import static io.millrace.storage.LogFixture.fill;
import static io.millrace.storage.LogFixture.open;
import static io.millrace.storage.LogFixture.readAll;
import static io.millrace.storage.LogFixture.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ManualTime;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A log on a disk that fills up, turns read-only or loses a mapped file: every failure reaches its caller as a
 * storage error (never as the JVM's {@link InternalError}), nothing written is lost, and the log works again once
 * the disk does.
 */
class StorageFaultTest {

    /** Every batch gets an index entry, so each append writes to the memory-mapped indexes. */
    private static final Map<String, String> INDEX_EVERY_BATCH = Map.of(LogConfig.INDEX_INTERVAL_BYTES, "0");

    @TempDir
    Path tempDir;

    private final ManualTime time = new ManualTime();
    private Tmpfs disk;
    private PartitionLog log;

    @BeforeEach
    void mountDisk() {
        disk = Tmpfs.mount(tempDir, "8m");
    }

    @AfterEach
    void unmountDisk() {
        try {
            if (log != null) {
                log.abandon();
            }
        } finally {
            disk.close();
        }
    }

    @Test
    void anIndexPageTheFullDiskCannotSupplyCostsTheIndexEntryNotTheAppend() {
        Path dir = disk.dir().resolve("t-0");
        log = open(dir, time, INDEX_EVERY_BATCH);
        List<String> written = new ArrayList<>(fill(log, time, 1, 3));
        disk.fill();

        // The batch fits in the log file's last page, already allocated; the index's first page is a hole that a
        // full tmpfs cannot back (through the mapping, that write would be a SIGBUS).
        written.addAll(fill(log, time, 2, 3));

        assertThat(values(readAll(log, 0))).containsExactlyElementsOf(written);
        disk.free();
        written.addAll(fill(log, time, 2, 3));
        log.close();
        log = open(dir, time, INDEX_EVERY_BATCH);
        assertThat(log.recoveryReport().lostData()).isFalse();
        assertThat(values(readAll(log, 0))).containsExactlyElementsOf(written);
        assertThat(values(readAll(log, 7))).containsExactlyElementsOf(written.subList(7, written.size()));
    }

    @Test
    void aFullDiskIsReportedAndWritesAreAllowedAgainOnceSpaceIsFreed() {
        StorageHealth health = new StorageHealth(disk.dir(), 0);
        assertThat(health.check()).isEmpty();

        disk.fill();
        assertThat(health.check()).hasValueSatisfying(p -> {
            assertThat(p.kind()).isEqualTo(StorageHealth.Kind.FULL);
            assertThat(p.reason()).contains("No space left");
        });
        assertThat(health.problem()).isPresent();
        assertThat(health.failureCount()).isEqualTo(1);

        disk.free();
        assertThat(health.check()).isEmpty();
        assertThat(health.problem()).isEmpty();
    }

    @Test
    void aReadOnlyDiskIsReportedUntilItIsWritableAgain() {
        StorageHealth health = new StorageHealth(disk.dir(), 0);
        disk.remountReadOnly();
        try {
            assertThat(health.check()).hasValueSatisfying(p ->
                    assertThat(p.kind()).isEqualTo(StorageHealth.Kind.READ_ONLY));
        } finally {
            disk.remountWritable();
        }
        assertThat(health.check()).isEmpty();
    }

    @Test
    void lessFreeSpaceThanTheMinimumCountsAsFull() {
        StorageHealth health = new StorageHealth(disk.dir(), 16L * 1024 * 1024);

        assertThat(health.check()).hasValueSatisfying(p -> {
            assertThat(p.kind()).isEqualTo(StorageHealth.Kind.FULL);
            assertThat(p.reason()).contains("storage.min.free.bytes");
        });
    }

    @Test
    void aFailedWriteMarksTheDirectoryAtOnceWhenItSaysWhy() {
        StorageHealth health = new StorageHealth(disk.dir(), 0);

        health.recordFailure(new UncheckedIOException(new java.io.IOException("No space left on device")));

        assertThat(health.problem()).hasValueSatisfying(p -> assertThat(p.kind()).isEqualTo(StorageHealth.Kind.FULL));
        health.recordFailure(new UncheckedIOException(new java.io.IOException("Input/output error")));
        assertThat(health.failureCount()).isEqualTo(2);
        assertThat(health.check()).isEmpty();
    }
}
