package io.millrace.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether a data directory can take writes: full, read-only, or fine. Its partitions read it before every write so
 * that a full disk refuses produces up front (retriable STORAGE_ERROR) instead of failing half-way through them, and
 * {@code /health} and the metrics report it.
 *
 * <p>{@link #check} probes the directory (file system flags, free space, and a real one-page write, because only a
 * write tells a full tmpfs or a quota from a healthy disk) and is the only way out of a problem: writes resume at
 * the first check that finds the directory writable again. {@link #recordFailure} lets a failed write mark the
 * directory at once rather than at the next check. Thread-safe: checks run on a worker thread, partitions read
 * {@link #problem} on their event loops.
 */
public final class StorageHealth {

    /** Bytes the probe writes: one page, so that the write must allocate a block as an append would. */
    private static final int PROBE_BYTES = 4096;
    private static final String PROBE_FILE = ".millrace-write-probe";

    /** What is wrong with the directory. */
    public enum Kind {
        FULL("full"), READ_ONLY("read-only"), FAILING("failing");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** The word {@code /health} shows. */
        public String label() {
            return label;
        }
    }

    /** Why writes to the directory are refused. */
    public record Problem(Kind kind, String reason) {
    }

    private final Path dir;
    private final long minFreeBytes;
    private final AtomicLong failures = new AtomicLong();
    private volatile Optional<Problem> problem = Optional.empty();

    /**
     * @param minFreeBytes the directory counts as full below this much usable space ({@code storage.min.free.bytes});
     *                     0 only when a write fails for want of space
     */
    public StorageHealth(Path dir, long minFreeBytes) {
        this.dir = dir;
        this.minFreeBytes = minFreeBytes;
    }

    public Path dir() {
        return dir;
    }

    /** Why writes are refused now, or empty when the directory took the last write or probe. */
    public Optional<Problem> problem() {
        return problem;
    }

    /** Storage failures seen since start: failed probes and failed reads or writes of partition files. */
    public long failureCount() {
        return failures.get();
    }

    /**
     * Counts a failed read or write of a partition file, and marks the directory full or read-only at once when
     * the failure says so (other failures may concern one file only and leave the verdict to the next check).
     */
    public void recordFailure(Throwable failure) {
        failures.incrementAndGet();
        classify(failure).filter(p -> p.kind() != Kind.FAILING).ifPresent(p -> problem = Optional.of(p));
    }

    /**
     * Probes the directory now and returns the verdict, which {@link #problem} returns from then on. Blocking (it
     * writes and fsyncs a page): call it off the event loop.
     */
    public Optional<Problem> check() {
        Optional<Problem> found = probe();
        if (found.isPresent()) {
            failures.incrementAndGet();
        }
        problem = found;
        return found;
    }

    private Optional<Problem> probe() {
        Path probeFile = dir.resolve(PROBE_FILE);
        try {
            Files.createDirectories(dir);
            FileStore store = Files.getFileStore(dir);
            if (store.isReadOnly()) {
                return Optional.of(new Problem(Kind.READ_ONLY, "The file system of " + dir + " is mounted read-only"));
            }
            long usable = store.getUsableSpace();
            if (usable < minFreeBytes) {
                return Optional.of(new Problem(Kind.FULL, dir + " has " + usable + " bytes free, below "
                        + minFreeBytes + " (storage.min.free.bytes)"));
            }
            try (FileChannel channel = FileChannel.open(probeFile, StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer page = ByteBuffer.allocate(PROBE_BYTES);
                while (page.hasRemaining()) {
                    channel.write(page);
                }
                channel.force(true);
            }
            return Optional.empty();
        } catch (IOException | UncheckedIOException e) {
            return classify(e).or(() -> Optional.of(new Problem(Kind.FAILING, "Cannot write to " + dir + ": " + e)));
        } finally {
            try {
                Files.deleteIfExists(probeFile);
            } catch (IOException e) {
                // A read-only or failing directory: the verdict above already says so.
            }
        }
    }

    /** Reads the cause chain for the operating system's own words for a full or read-only file system. */
    static Optional<Problem> classify(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String reason = t instanceof FileSystemException fs && fs.getReason() != null ? fs.getReason()
                    : String.valueOf(t.getMessage());
            String lower = reason.toLowerCase(Locale.ROOT);
            if (lower.contains("no space left") || lower.contains("disk quota exceeded")) {
                return Optional.of(new Problem(Kind.FULL, "No space left: " + t.getMessage()));
            }
            if (lower.contains("read-only file system") || t instanceof AccessDeniedException) {
                return Optional.of(new Problem(Kind.READ_ONLY, "Not writable: " + t.getMessage()));
            }
        }
        return Optional.empty();
    }
}
