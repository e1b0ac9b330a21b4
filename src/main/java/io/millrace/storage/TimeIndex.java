package io.millrace.storage;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A sparse map from timestamp to offset in one segment: file {@code <base offset>.timeindex}, the same bytes Kafka's
 * broker writes for the same log file.
 *
 * <p>Format: a sequence of 12-byte entries, no header, sorted by timestamp (strictly increasing).
 * <pre>
 *   timestamp        int64  (the largest batch timestamp in the segment up to the offset below)
 *   relative offset  int32  (last offset of the batch holding that timestamp, minus the segment base offset)
 * </pre>
 * An entry is added beside each offset index entry when the segment's largest timestamp grew past the last entry's
 * (an empty index counts as holding {@code -1}, Kafka's "no timestamp", so batches without timestamps add none),
 * and once more when the segment is rolled, so its last entry always holds the segment's largest timestamp.
 * Derived data, rebuilt like the offset index. Not thread-safe.
 */
final class TimeIndex extends MappedIndex {

    static final String SUFFIX = ".timeindex";
    private static final int ENTRY_SIZE = 12;
    private static final long NO_TIMESTAMP = -1;

    private final long baseOffset;

    TimeIndex(Path path, long baseOffset, int maxIndexBytes) {
        super(path, ENTRY_SIZE, maxIndexBytes);
        this.baseOffset = baseOffset;
    }

    /** Appends an entry if {@code timestamp} is larger than the last one; returns whether it did. */
    boolean maybeAppend(long timestamp, long offset) {
        long lastTimestamp = entries() > 0 ? keyAt(entries() - 1) : NO_TIMESTAMP;
        if (timestamp <= lastTimestamp || isFull()) {
            return false;
        }
        appendEntry(ByteBuffer.allocate(ENTRY_SIZE).putLong(timestamp).putInt((int) (offset - baseOffset)).flip());
        return true;
    }

    /**
     * The last entry whose timestamp is strictly below {@code timestamp}: every record before its offset is older
     * than the target, so a search for the first record at or after the target may start there.
     */
    Optional<Entry> lookupBefore(long timestamp) {
        int n = floorEntry(timestamp, true);
        return n < 0 ? Optional.empty() : Optional.of(entry(n));
    }

    Optional<Entry> lastEntry() {
        return entries() == 0 ? Optional.empty() : Optional.of(entry(entries() - 1));
    }

    /** Drops every entry for offsets at or above {@code offset}. */
    void truncateTo(long offset) {
        int keep = 0;
        while (keep < entries() && entry(keep).offset() < offset) {
            keep++;
        }
        truncateToEntries(keep);
    }

    private Entry entry(int n) {
        return new Entry(keyAt(n), baseOffset + readInt(slot(n) + 8));
    }

    @Override
    long keyAt(int n) {
        return readLong(slot(n));
    }

    /**
     * True when the file holds whole entries, timestamps strictly increase, and offsets stay inside the segment and
     * never decrease: the checks Kafka's sanity check makes, and more.
     */
    boolean isConsistent(long nextSegmentBase) {
        if (!foundWholeEntries()) {
            return false;
        }
        long lastTimestamp = Long.MIN_VALUE;
        long lastOffset = baseOffset;
        for (int n = 0; n < entries(); n++) {
            Entry e = entry(n);
            if ((n > 0 && e.timestamp() <= lastTimestamp) || e.offset() < lastOffset
                    || e.offset() >= nextSegmentBase) {
                return false;
            }
            lastTimestamp = e.timestamp();
            lastOffset = e.offset();
        }
        return true;
    }

    record Entry(long timestamp, long offset) {
    }
}
