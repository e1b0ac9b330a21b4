package io.millrace.replication;

import io.millrace.common.EpochEndOffset;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * A pure in-memory leader-epoch cache (epoch → start offset) with the replication plan's {@code endOffsetFor}
 * semantics, for tests and the simulation; the real cache, with its checkpoint file, lives in storage.
 * Not thread-safe.
 */
final class InMemoryEpochCache implements Divergence.EpochLookup {

    private final TreeMap<Integer, Long> startOffsets = new TreeMap<>();
    private final LongSupplier logEnd;

    InMemoryEpochCache(LongSupplier logEnd) {
        this.logEnd = logEnd;
    }

    /** A cache over a log that ends at {@code logEnd}, holding (epoch, start offset) pairs given in order. */
    static InMemoryEpochCache of(long logEnd, long... epochStartPairs) {
        InMemoryEpochCache cache = new InMemoryEpochCache(() -> logEnd);
        for (int i = 0; i < epochStartPairs.length; i += 2) {
            cache.assign((int) epochStartPairs[i], epochStartPairs[i + 1]);
        }
        return cache;
    }

    /** Records that {@code epoch} starts at {@code startOffset}; a no-op unless it is newer than the latest. */
    void assign(int epoch, long startOffset) {
        if (!startOffsets.isEmpty()) {
            Map.Entry<Integer, Long> latest = startOffsets.lastEntry();
            if (epoch <= latest.getKey()) {
                return;
            }
            if (startOffset < latest.getValue()) {
                throw new IllegalArgumentException("Epoch " + epoch + " starts at " + startOffset
                        + " before epoch " + latest.getKey() + " at " + latest.getValue());
            }
        }
        startOffsets.put(epoch, startOffset);
    }

    /** Drops the entries starting at or above {@code offset} (Kafka's {@code truncateFromEnd}). */
    void truncateFromEnd(long offset) {
        startOffsets.values().removeIf(start -> start >= offset);
    }

    void clear() {
        startOffsets.clear();
    }

    int latestEpoch() {
        return startOffsets.isEmpty() ? EpochEndOffset.UNDEFINED_EPOCH : startOffsets.lastKey();
    }

    TreeMap<Integer, Long> entries() {
        return new TreeMap<>(startOffsets);
    }

    void replaceWith(Map<Integer, Long> entries) {
        startOffsets.clear();
        startOffsets.putAll(entries);
    }

    @Override
    public EpochEndOffset endOffsetFor(int epoch) {
        if (startOffsets.isEmpty() || epoch < startOffsets.firstKey()) {
            return EpochEndOffset.UNDEFINED;
        }
        int latest = startOffsets.lastKey();
        if (epoch >= latest) {
            return new EpochEndOffset(latest, logEnd.getAsLong());
        }
        int floor = startOffsets.floorKey(epoch);
        long nextStart = startOffsets.higherEntry(epoch).getValue();
        return new EpochEndOffset(floor, nextStart);
    }

    @Override
    public String toString() {
        return startOffsets.toString();
    }
}
