package io.millrace.storage;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A sparse map from offset to byte position in one segment's log file: file {@code <base offset>.index}, the same
 * bytes Kafka's broker writes for the same log file.
 *
 * <p>Format: a sequence of 8-byte entries, no header, sorted by offset.
 * <pre>
 *   relative offset  int32  (the LAST offset of a batch - segment base offset)
 *   position         int32  (byte position in the .log file where that batch starts)
 * </pre>
 * An entry is added at most every {@code index.interval.bytes} of log. Keying on the batch's last offset, as Kafka
 * does, makes an entry an exact answer for that offset and a lower bound for every later one: a lookup finds the
 * last entry at or below the target, whose batch starts at or before the batch holding the target, and the reader
 * scans batch headers forward from there. The index is derived data: it is rebuilt from the log whenever it is
 * missing or fails {@link #isConsistent} or {@link LogSegment}'s check of its keys against the batches. Not
 * thread-safe.
 */
final class OffsetIndex extends MappedIndex {

    static final String SUFFIX = ".index";
    private static final int ENTRY_SIZE = 8;

    private final long baseOffset;

    OffsetIndex(Path path, long baseOffset, int maxIndexBytes) {
        super(path, ENTRY_SIZE, maxIndexBytes);
        this.baseOffset = baseOffset;
    }

    /** Indexes the batch starting at {@code position}, whose last offset is {@code batchLastOffset}. */
    void append(long batchLastOffset, int position) {
        appendEntry(ByteBuffer.allocate(ENTRY_SIZE).putInt((int) (batchLastOffset - baseOffset)).putInt(position)
                .flip());
    }

    /**
     * The last entry whose key is at or below {@code offset}, or empty if there is none: its batch ends at or before
     * {@code offset}, so the batch holding {@code offset} starts at its position or after it.
     */
    Optional<Entry> lookup(long offset) {
        int n = floorEntry(offset, false);
        return n < 0 ? Optional.empty() : Optional.of(entry(n));
    }

    /**
     * The number of the last entry whose batch starts at or before {@code maxPosition} and ends below
     * {@code offsetLimit}, or -1 when none does. Keys and positions both grow from entry to entry, so the entries that
     * qualify are a prefix of the index and a binary search finds where it ends.
     */
    int lastEntryWithin(long offsetLimit, long maxPosition) {
        int lo = 0;
        int hi = entries() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (keyAt(mid) < offsetLimit && positionAt(mid) <= maxPosition) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /**
     * The entries whose keys (their batches' last offsets) lie in {@code [fromOffset, toOffset)}, copied out of the
     * mapping so that another thread may use them after the index changed or was closed.
     */
    IndexedBatches entriesBetween(long fromOffset, long toOffset) {
        int first = floorEntry(fromOffset, true) + 1;
        int end = floorEntry(toOffset, true) + 1;
        if (end <= first) {
            return IndexedBatches.NONE;
        }
        long[] lastOffsets = new long[end - first];
        int[] positions = new int[end - first];
        for (int n = first; n < end; n++) {
            lastOffsets[n - first] = keyAt(n);
            positions[n - first] = positionAt(n);
        }
        return new IndexedBatches(lastOffsets, positions);
    }

    Optional<Entry> firstEntry() {
        return entries() == 0 ? Optional.empty() : Optional.of(entry(0));
    }

    Optional<Entry> lastEntry() {
        return entries() == 0 ? Optional.empty() : Optional.of(entry(entries() - 1));
    }

    /** Drops the entries of every batch ending at or above {@code offset}. */
    void truncateTo(long offset) {
        truncateToEntries(floorEntry(offset, true) + 1);
    }

    /** Entry number {@code n}, from 0 to the number of entries less one. */
    Entry entry(int n) {
        return new Entry(keyAt(n), positionAt(n));
    }

    private int positionAt(int n) {
        return readInt(slot(n) + 4);
    }

    @Override
    long keyAt(int n) {
        return baseOffset + readInt(slot(n));
    }

    /**
     * True when the file holds whole entries, and entries strictly increase in offset and position and stay inside
     * the segment: the checks Kafka's sanity check makes, and more.
     */
    boolean isConsistent(long nextSegmentBase, long logFileSize) {
        if (!foundWholeEntries()) {
            return false;
        }
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

    /** {@code offset}: the last offset of the batch starting at {@code position}. */
    record Entry(long offset, int position) {
    }
}
