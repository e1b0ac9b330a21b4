package io.millrace.replication;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One replica's log for tests and the simulation: records (offset, epoch, value) from offset 0 (no retention) and
 * the leader-epoch cache kept beside it exactly as storage keeps it: a leader assigns its epoch's start offset when
 * it takes over, an append whose epoch is newer than the latest cached adds an entry, a truncation drops the entries
 * starting at or above the truncation offset. Not thread-safe.
 */
final class InMemoryLog {

    record Entry(long offset, int epoch, long value) {
    }

    private final List<Entry> entries = new ArrayList<>();
    private final InMemoryEpochCache epochs = new InMemoryEpochCache(this::logEnd);

    /** A log holding one record per given epoch, values 1000 + offset. */
    static InMemoryLog withEpochs(int... recordEpochs) {
        InMemoryLog log = new InMemoryLog();
        for (int epoch : recordEpochs) {
            log.append(new Entry(log.logEnd(), epoch, 1000 + log.logEnd()));
        }
        return log;
    }

    long logEnd() {
        return entries.size();
    }

    int latestEpoch() {
        return epochs.latestEpoch();
    }

    InMemoryEpochCache epochs() {
        return epochs;
    }

    List<Entry> entries() {
        return Collections.unmodifiableList(entries);
    }

    Entry at(long offset) {
        return entries.get((int) offset);
    }

    /** What a new leader does first (Kafka's {@code assignEpochStartOffset} in {@code makeLeader}). */
    void assignEpochStart(int epoch) {
        epochs.assign(epoch, logEnd());
    }

    /** Appends a record at the log end, keeping the writer's offset and epoch. */
    void append(Entry entry) {
        if (entry.offset() != logEnd()) {
            throw new IllegalStateException("Append at " + entry.offset() + " to a log ending at " + logEnd());
        }
        if (entry.epoch() < epochs.latestEpoch()) {
            throw new IllegalStateException("Epoch " + entry.epoch() + " after " + epochs.latestEpoch());
        }
        epochs.assign(entry.epoch(), entry.offset());
        entries.add(entry);
    }

    /** Drops the records at and above {@code offset}, and the cache entries starting there, even if none are. */
    void truncateTo(long offset) {
        while (entries.size() > offset) {
            entries.remove(entries.size() - 1);
        }
        epochs.truncateFromEnd(Math.max(0, offset));
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("[");
        for (Entry entry : entries) {
            text.append(entry.epoch()).append(':').append(entry.value()).append(' ');
        }
        return text.append("] epochs ").append(epochs).toString();
    }
}
