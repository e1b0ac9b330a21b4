package io.millrace.storage;

import io.millrace.common.EpochEndOffset;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Which leader epoch wrote which part of a partition's log: an ordered list of {@code (epoch, startOffset)} entries,
 * epochs strictly increasing and start offsets non-decreasing, each entry saying "from this offset on, records were
 * written by the leader of this epoch" (Kafka's {@code LeaderEpochFileCache}). A follower compares its cache with
 * its leader's through {@link #endOffsetFor} to find where their logs diverge (KIP-101, KIP-279).
 *
 * <h2>Checkpoint file</h2>
 * When created with a directory, the cache persists itself to {@value #FILE} there after every change, replaced
 * atomically (temporary file, fsync, rename, fsync of the directory). Text, as Kafka's:
 * <pre>
 * 0                      format version
 * &lt;count&gt;                number of entries
 * &lt;epoch&gt; &lt;startOffset&gt;    one line per entry, oldest first
 * </pre>
 * Changes are rare (a leader change, a truncation, retention moving the log start), so the write is synchronous on
 * the caller's thread. A missing or unreadable file is not an error: {@link PartitionLog} rebuilds the cache from
 * the epochs stamped in its batch headers.
 *
 * <h2>Threading</h2>
 * Not thread-safe: the owner of the {@link PartitionLog} (the partition verticle's context) calls every method.
 */
public final class LeaderEpochCache {

    /** Name of the checkpoint file in the partition directory. */
    public static final String FILE = "leader-epoch-checkpoint";
    private static final int VERSION = 0;

    /** One entry: records from {@code startOffset} on were written by the leader of {@code epoch}. */
    public record EpochEntry(int epoch, long startOffset) {
    }

    private final List<EpochEntry> entries;
    /** Where to persist; empty for a cache kept only in memory. */
    private final Optional<Path> dir;

    /** An empty cache kept only in memory (for simulations and tests of replication logic). */
    public LeaderEpochCache() {
        this(Optional.empty(), List.of());
    }

    private LeaderEpochCache(Optional<Path> dir, List<EpochEntry> entries) {
        this.dir = dir;
        this.entries = new ArrayList<>(entries);
    }

    /**
     * The cache persisted in {@code dir}, or empty when the checkpoint is missing or unreadable (the caller then
     * rebuilds it, see {@link #rebuilt}). Entries that break the ordering rules make the whole file unreadable.
     */
    static Optional<LeaderEpochCache> load(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            String[] lines = Files.readString(file, StandardCharsets.UTF_8).split("\n");
            if (lines.length < 2 || Integer.parseInt(lines[0].trim()) != VERSION) {
                return Optional.empty();
            }
            int count = Integer.parseInt(lines[1].trim());
            if (count < 0 || lines.length != count + 2) {
                return Optional.empty();
            }
            List<EpochEntry> loaded = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                String[] fields = lines[i + 2].trim().split(" ");
                if (fields.length != 2) {
                    return Optional.empty();
                }
                EpochEntry entry = new EpochEntry(Integer.parseInt(fields[0]), Long.parseLong(fields[1]));
                EpochEntry previous = loaded.isEmpty() ? null : loaded.get(loaded.size() - 1);
                if (entry.epoch() < 0 || entry.startOffset() < 0 || (previous != null
                        && (entry.epoch() <= previous.epoch() || entry.startOffset() < previous.startOffset()))) {
                    return Optional.empty();
                }
                loaded.add(entry);
            }
            return Optional.of(new LeaderEpochCache(Optional.of(dir), loaded));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * A cache persisted in {@code dir} built from {@code (epoch, baseOffset)} pairs of the log's batches, in log
     * order (epochs below 0, written before epochs were stamped, are skipped); written to disk at once.
     */
    static LeaderEpochCache rebuilt(Path dir, List<EpochEntry> batchEpochs) {
        LeaderEpochCache cache = new LeaderEpochCache(Optional.of(dir), List.of());
        for (EpochEntry batch : batchEpochs) {
            if (batch.epoch() >= 0 && batch.epoch() > cache.latestEpoch()) {
                cache.insert(batch);
            }
        }
        cache.persist();
        return cache;
    }

    /**
     * Records that {@code epoch} starts at {@code startOffset}, as Kafka's {@code LeaderEpochFileCache.assign}:
     * <ul>
     *   <li>the latest epoch again, at or after its start: nothing changes;</li>
     *   <li>an epoch below the latest: ignored (unlike Kafka, which would drop the later epochs: here only a
     *   truncation removes history, so a stale caller cannot rewrite it);</li>
     *   <li>otherwise the entry is added, after removing the entries at its end that start at or after
     *   {@code startOffset} (or have the same epoch), which keeps start offsets non-decreasing.</li>
     * </ul>
     *
     * @return whether the cache changed (and was persisted)
     * @throws MillraceException {@code STORAGE_ERROR} if persisting fails (every changing method may throw it)
     * @throws IllegalArgumentException if {@code epoch} or {@code startOffset} is negative
     */
    public boolean assign(int epoch, long startOffset) {
        if (epoch < 0 || startOffset < 0) {
            throw new IllegalArgumentException("Cannot assign epoch " + epoch + " at offset " + startOffset);
        }
        Optional<EpochEntry> latest = latestEntry();
        if (latest.isPresent() && (epoch < latest.get().epoch()
                || (epoch == latest.get().epoch() && startOffset >= latest.get().startOffset()))) {
            return false;
        }
        insert(new EpochEntry(epoch, startOffset));
        persist();
        return true;
    }

    private void insert(EpochEntry entry) {
        while (!entries.isEmpty()) {
            EpochEntry last = entries.get(entries.size() - 1);
            if (last.epoch() < entry.epoch() && last.startOffset() < entry.startOffset()) {
                break;
            }
            entries.remove(entries.size() - 1);
        }
        entries.add(entry);
    }

    /** The largest epoch in the cache, or {@link EpochEndOffset#UNDEFINED_EPOCH} (-1) when it is empty. */
    public int latestEpoch() {
        return latestEntry().map(EpochEntry::epoch).orElse(EpochEndOffset.UNDEFINED_EPOCH);
    }

    /** The newest entry, if any. */
    public Optional<EpochEntry> latestEntry() {
        return entries.isEmpty() ? Optional.empty() : Optional.of(entries.get(entries.size() - 1));
    }

    /**
     * Where {@code requestedEpoch} ended in a log ending at {@code logEndOffset}:
     * <ul>
     *   <li>empty cache, or {@code requestedEpoch} below the first cached epoch: {@link EpochEndOffset#UNDEFINED};</li>
     *   <li>{@code requestedEpoch} at or above the latest cached epoch: {@code (latestEpoch, logEndOffset)};</li>
     *   <li>otherwise: the largest cached epoch at or below {@code requestedEpoch}, ending at the start offset of the
     *   first entry whose epoch is above {@code requestedEpoch}.</li>
     * </ul>
     */
    public EpochEndOffset endOffsetFor(int requestedEpoch, long logEndOffset) {
        if (entries.isEmpty() || requestedEpoch < entries.get(0).epoch()) {
            return EpochEndOffset.UNDEFINED;
        }
        EpochEntry latest = entries.get(entries.size() - 1);
        if (requestedEpoch >= latest.epoch()) {
            return new EpochEndOffset(latest.epoch(), logEndOffset);
        }
        int higher = 1;
        while (entries.get(higher).epoch() <= requestedEpoch) {
            higher++;
        }
        return new EpochEndOffset(entries.get(higher - 1).epoch(), entries.get(higher).startOffset());
    }

    /**
     * The epoch of the leader that wrote {@code offset}: that of the last entry starting at or below it; empty when
     * the offset precedes every entry.
     */
    public OptionalInt epochForOffset(long offset) {
        for (int i = entries.size() - 1; i >= 0; i--) {
            if (entries.get(i).startOffset() <= offset) {
                return OptionalInt.of(entries.get(i).epoch());
            }
        }
        return OptionalInt.empty();
    }

    /**
     * Forgets the epochs of records at or after {@code endOffset}, which the log no longer holds: removes every entry
     * starting at or after it.
     *
     * @return whether the cache changed (and was persisted)
     */
    public boolean truncateFromEnd(long endOffset) {
        int before = entries.size();
        entries.removeIf(entry -> entry.startOffset() >= endOffset);
        return persistIfChanged(before != entries.size());
    }

    /**
     * Forgets what lies before {@code startOffset}, the new log start: drops the entries starting at or below it and
     * puts the last of them back starting at {@code startOffset} (its epoch wrote the records there), as Kafka does.
     * Nothing changes when no entry starts below {@code startOffset}.
     *
     * @return whether the cache changed (and was persisted)
     */
    public boolean truncateFromStart(long startOffset) {
        if (entries.isEmpty() || entries.get(0).startOffset() >= startOffset) {
            return false;
        }
        EpochEntry lastBelow = null;
        while (!entries.isEmpty() && entries.get(0).startOffset() <= startOffset) {
            lastBelow = entries.remove(0);
        }
        entries.add(0, new EpochEntry(lastBelow.epoch(), startOffset));
        persist();
        return true;
    }

    /** Removes every entry (the log was emptied). */
    public boolean clear() {
        int before = entries.size();
        entries.clear();
        return persistIfChanged(before > 0);
    }

    /** The entries, oldest first; an immutable copy. */
    public List<EpochEntry> entries() {
        return List.copyOf(entries);
    }

    private boolean persistIfChanged(boolean changed) {
        if (changed) {
            persist();
        }
        return changed;
    }

    private void persist() {
        if (dir.isEmpty()) {
            return;
        }
        StringBuilder text = new StringBuilder().append(VERSION).append('\n').append(entries.size()).append('\n');
        for (EpochEntry entry : entries) {
            text.append(entry.epoch()).append(' ').append(entry.startOffset()).append('\n');
        }
        try {
            DurableFiles.replace(dir.get(), FILE, text.toString());
        } catch (IOException e) {
            throw new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot write " + FILE + " in " + dir.get(), e);
        }
    }

    @Override
    public String toString() {
        return "LeaderEpochCache" + entries;
    }
}
