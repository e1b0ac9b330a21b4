package io.millrace.storage;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bound on the segment files the partition logs of one process keep open at once, shared by all of them
 * ({@code log.max.open.files}). A segment opens its files on first use and tells the budget; when more segments are
 * open than the budget allows, the least recently used ones that nobody is using at that moment are closed, from
 * the thread whose open crossed the limit. A closed segment keeps what it knows in memory (size, end offset, index
 * entry counts, largest timestamp) and reopens its files, without a scan, the next time anyone uses it.
 *
 * <p>An open segment costs {@value #FILES_PER_SEGMENT} descriptors (its log file and its two index files) and two
 * memory mappings (the indexes), so the budget bounds both: 20,000 partitions would otherwise hold 60,000
 * descriptors and 40,000 mappings for their active segments alone.
 *
 * <p>"Least recently used" is approximated with the clock algorithm: a use only sets a flag in the segment (one
 * volatile read on the append path, no lock, no allocation), and the eviction hand walks the open segments oldest
 * first, giving a flagged one a second chance and skipping one in use. Exact LRU would need a shared lock on every
 * append of every partition. Segments in use are never closed, so the budget may be exceeded while all open
 * segments are in use (at most by the segments being opened by other threads at that moment).
 *
 * <p>Thread-safe.
 */
public final class OpenFileBudget {

    /** Descriptors one open segment holds: its log file and the files of its offset and time indexes. */
    public static final int FILES_PER_SEGMENT = 3;
    /** Memory mappings one open segment holds: its two indexes. */
    static final int MAPPINGS_PER_SEGMENT = 2;
    /** vm.max_map_count's usual default, assumed where it cannot be read. */
    private static final long DEFAULT_MAX_MAP_COUNT = 65_530;

    private final int maxOpenFiles;
    private final int maxOpenSegments;
    /** Open segments in the order the clock hand visits them, the next to visit first. Guarded by {@code this}. */
    private final LinkedHashSet<LogSegment> open = new LinkedHashSet<>();
    private final AtomicLong closes = new AtomicLong();

    /**
     * @param maxOpenFiles the most segment files to keep open; at least {@value #FILES_PER_SEGMENT} (one segment)
     */
    public OpenFileBudget(int maxOpenFiles) {
        if (maxOpenFiles < FILES_PER_SEGMENT) {
            throw new IllegalArgumentException("An open-file budget must allow at least one segment ("
                    + FILES_PER_SEGMENT + " files), was " + maxOpenFiles);
        }
        this.maxOpenFiles = maxOpenFiles;
        this.maxOpenSegments = maxOpenFiles / FILES_PER_SEGMENT;
    }

    /** A budget that never closes anything (tools and tests that open a few logs). */
    public static OpenFileBudget unlimited() {
        return new OpenFileBudget(Integer.MAX_VALUE);
    }

    /**
     * The budget a broker takes when none is configured: half the process's descriptor limit, so that sockets keep
     * the other half, and at most what keeps the index mappings within half of {@code vm.max_map_count} (the JVM
     * maps its own files, heap and thread stacks too).
     */
    public static int defaultMaxOpenFiles() {
        long byDescriptors = maxFileDescriptors() / 2;
        long byMappings = maxMapCount() / 2 / MAPPINGS_PER_SEGMENT * FILES_PER_SEGMENT;
        return (int) Math.max(FILES_PER_SEGMENT, Math.min(Integer.MAX_VALUE, Math.min(byDescriptors, byMappings)));
    }

    private static long maxFileDescriptors() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        // Windows and others have no such per-process limit to share; the mappings bound still applies.
        return Long.MAX_VALUE;
    }

    private static long maxMapCount() {
        try {
            // Read as lines: procfs files report a size of 0, and Files.readString trusted it (Java 17 returned "6"
            // for 65530, which made the default budget one segment for the whole broker).
            return Long.parseLong(Files.readAllLines(Path.of("/proc/sys/vm/max_map_count"), StandardCharsets.US_ASCII)
                    .get(0).trim());
        } catch (IOException | RuntimeException e) {
            return DEFAULT_MAX_MAP_COUNT;
        }
    }

    public int maxOpenFiles() {
        return maxOpenFiles;
    }

    /** Segments whose files are open now. */
    public synchronized int openSegments() {
        return open.size();
    }

    /** Segments closed so far because the budget was full (not counting segments closed for good or deleted). */
    public long closes() {
        return closes.get();
    }

    /**
     * Counts {@code segment}, whose files were just opened, and closes the least recently used idle segments while
     * the budget is exceeded. The caller must be using {@code segment} (so it is not chosen) and hold no segment's
     * monitor.
     */
    void opened(LogSegment segment) {
        List<LogSegment> victims;
        synchronized (this) {
            open.add(segment);
            int excess = open.size() - maxOpenSegments;
            if (excess <= 0) {
                return;
            }
            victims = claimVictims(excess);
        }
        // Outside the lock: unmapping and closing take a while, and other logs' opens need not wait for them.
        for (LogSegment victim : victims) {
            if (victim.closeForBudget()) {
                closes.incrementAndGet();
            }
        }
    }

    /**
     * Takes up to {@code wanted} segments off the clock, each claimed so that nobody can use it until it is closed.
     * Two turns at most: the first may only clear the use flags.
     */
    private List<LogSegment> claimVictims(int wanted) {
        List<LogSegment> victims = new ArrayList<>(wanted);
        int visits = 2 * open.size();
        while (victims.size() < wanted && visits-- > 0) {
            Iterator<LogSegment> hand = open.iterator();
            LogSegment candidate = hand.next();
            hand.remove();
            if (!candidate.clearUsed() && candidate.claimForClosing()) {
                victims.add(candidate);
            } else {
                open.add(candidate);
            }
        }
        return victims;
    }

    /** Stops counting {@code segment}, whose files were closed for good (the log closed, or the segment deleted). */
    synchronized void forget(LogSegment segment) {
        open.remove(segment);
    }

    @Override
    public String toString() {
        return "OpenFileBudget(" + openSegments() + " of " + maxOpenSegments + " segments open, " + closes()
                + " closed for the budget)";
    }
}
