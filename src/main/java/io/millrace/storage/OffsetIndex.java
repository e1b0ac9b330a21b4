package io.millrace.storage;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A sparse map from offset to byte position in one segment's log file: file {@code <base offset>.index}.
 *
 * <p>Format: a sequence of 8-byte entries, no header, sorted by offset.
 * <pre>
 *   relative offset  int32  (offset - segment base offset)
 *   position         int32  (byte position of the batch with that base offset in the .log file)
 * </pre>
 * An entry is added at most every {@code index.interval.bytes} of log. A lookup finds the last entry at or below
 * the target, and the reader scans batch headers forward from there. The index is derived data: it is rebuilt
 * from the log whenever it is missing or fails {@link #isConsistent}. Not thread-safe.
 */
final class OffsetIndex extends MappedIndex {

    static final String SUFFIX = ".index";
    private static final int ENTRY_SIZE = 8;

    private final long baseOffset;

    OffsetIndex(Path path, long baseOffset, int maxIndexBytes) {
        super(path, ENTRY_SIZE, maxIndexBytes);
        this.baseOffset = baseOffset;
    }

    void append(long offset, int position) {
        appendEntry(ByteBuffer.allocate(ENTRY_SIZE).putInt((int) (offset - baseOffset)).putInt(position).flip());
    }

    /** The position of the last indexed batch starting at or before {@code offset}, or empty if there is none. */
    Optional<Entry> lookup(long offset) {
        int n = floorEntry(offset, false);
        return n < 0 ? Optional.empty() : Optional.of(entry(n));
    }

    Optional<Entry> lastEntry() {
        return entries() == 0 ? Optional.empty() : Optional.of(entry(entries() - 1));
    }

    /** Drops every entry for offsets at or above {@code offset}. */
    void truncateTo(long offset) {
        truncateToEntries(floorEntry(offset, true) + 1);
    }

    private Entry entry(int n) {
        return new Entry(keyAt(n), readInt(slot(n) + 4));
    }

    @Override
    long keyAt(int n) {
        return baseOffset + readInt(slot(n));
    }

    /** True when entries strictly increase in offset and position, and stay inside the segment. */
    boolean isConsistent(long nextSegmentBase, long logFileSize) {
        long lastOffset = baseOffset - 1;
        long lastPosition = -1;
        for (int n = 0; n < entries(); n++) {
            long offset = keyAt(n);
            int position = readInt(slot(n) + 4);
            if (offset <= lastOffset || offset >= nextSegmentBase || position <= lastPosition
                    || position >= logFileSize) {
                return false;
            }
            lastOffset = offset;
            lastPosition = position;
        }
        return true;
    }

    record Entry(long offset, int position) {
    }
}
