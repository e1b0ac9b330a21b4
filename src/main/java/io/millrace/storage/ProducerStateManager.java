package io.millrace.storage;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * Idempotent-producer state of one partition: for each producer id, its epoch and the sequence numbers and offsets
 * of its last {@value #BATCHES_KEPT} batches. It lets the log recognise a retried batch (same producer, epoch and
 * sequence range) and answer with the offsets it got the first time instead of writing it twice, and refuse a batch
 * that skips sequence numbers or comes from a fenced (older) epoch.
 *
 * <p>Rules, per producer, for a batch with epoch {@code e} and sequences {@code first..last}:
 * <ul>
 *   <li>unknown producer: accepted as is (its state may have expired);</li>
 *   <li>{@code e} below the known epoch: {@code INVALID_PRODUCER_EPOCH};</li>
 *   <li>{@code e} above it: accepted only if {@code first == 0} (a new epoch restarts sequences);</li>
 *   <li>same epoch and same range as a kept batch: a duplicate, answered with that batch's offsets;</li>
 *   <li>same epoch otherwise: {@code first} must follow the last batch's {@code last} (wrapping after
 *   {@link Integer#MAX_VALUE}), else {@code OUT_OF_ORDER_SEQUENCE}.</li>
 * </ul>
 *
 * <p>The state is bounded two ways, as an unknown producer's batch is accepted as is: a producer silent for
 * {@code producer.id.expiration.ms} is forgotten ({@link #expire}), and beyond {@code maxProducers} the producer
 * silent longest is forgotten at once (Kafka has the first rule only). Either way a retry of a batch that producer
 * wrote before it was forgotten is no longer recognised and is written a second time, and a gap in its sequence
 * numbers is no longer noticed. Producers are kept in the order they last wrote, so that eviction is O(1).
 *
 * <p>"Last wrote" is the broker's clock when the batch was appended (leader or follower), not the producer's
 * timestamps, which a client chooses; only when rebuilding from the log, which records no append time, is the
 * batch's max timestamp used, capped at the present.
 *
 * <p>Snapshot file ({@code producer-state.snapshot}, replaced atomically): {@code int16 version (1), int64 offset
 * (state covers batches below it), int32 producers}, then per producer {@code int64 id, int16 epoch,
 * int64 lastTimestamp, int8 batches}, each batch {@code int32 firstSeq, int32 lastSeq, int64 firstOffset,
 * int64 lastOffset}, producers in the order they last wrote; then {@code int32 CRC32C} of everything before it.
 * A missing or invalid snapshot is rebuilt from the log's batch headers. Not thread-safe: the log's owner calls it.
 */
final class ProducerStateManager {

    static final int BATCHES_KEPT = 5;
    static final String SNAPSHOT_FILE = "producer-state.snapshot";
    private static final short VERSION = 1;

    private final int maxProducers;
    /** In the order producers last wrote, the one silent longest first. */
    private final LinkedHashMap<Long, Producer> producers = new LinkedHashMap<>();
    private long evicted;

    /** @param maxProducers most producers kept; beyond it the one silent longest is forgotten */
    ProducerStateManager(int maxProducers) {
        if (maxProducers < 1) {
            throw new IllegalArgumentException("maxProducers must be at least 1, was " + maxProducers);
        }
        this.maxProducers = maxProducers;
    }

    /** A batch a producer wrote. */
    record BatchMeta(int firstSeq, int lastSeq, long firstOffset, long lastOffset) {
    }

    private static final class Producer {
        short epoch;
        long lastTimestamp;
        final ArrayDeque<BatchMeta> recent = new ArrayDeque<>();
    }

    /**
     * Checks a batch about to be appended. Returns the earlier copy when it is a duplicate; throws when it must be
     * refused; returns empty when it may be written.
     */
    Optional<BatchMeta> check(long producerId, short epoch, int firstSeq, int lastSeq) {
        Producer p = producers.get(producerId);
        if (p == null) {
            return Optional.empty();
        }
        if (epoch < p.epoch) {
            throw new MillraceException(ErrorCode.INVALID_PRODUCER_EPOCH, "Producer " + producerId + " epoch " + epoch
                    + " is fenced by epoch " + p.epoch);
        }
        if (epoch > p.epoch) {
            if (firstSeq != 0) {
                throw new MillraceException(ErrorCode.OUT_OF_ORDER_SEQUENCE, "Producer " + producerId
                        + " started epoch " + epoch + " at sequence " + firstSeq + " instead of 0");
            }
            return Optional.empty();
        }
        for (BatchMeta b : p.recent) {
            if (b.firstSeq == firstSeq && b.lastSeq == lastSeq) {
                return Optional.of(b);
            }
        }
        BatchMeta last = p.recent.peekLast();
        if (last != null) {
            int expected = last.lastSeq == Integer.MAX_VALUE ? 0 : last.lastSeq + 1;
            if (firstSeq != expected) {
                throw new MillraceException(ErrorCode.OUT_OF_ORDER_SEQUENCE, "Producer " + producerId
                        + " sent sequence " + firstSeq + " but " + expected + " was expected");
            }
        }
        return Optional.empty();
    }

    /**
     * Records a batch that was appended (as leader or follower, or found while rebuilding) at {@code writeTime},
     * and forgets the producer silent longest if that makes one too many.
     */
    void update(long producerId, short epoch, int firstSeq, int lastSeq, long firstOffset, long lastOffset,
                long writeTime) {
        // Removed and put back, so that the map stays in the order producers last wrote.
        Producer p = producers.remove(producerId);
        if (p == null) {
            p = new Producer();
        }
        producers.put(producerId, p);
        evictBeyondCap();
        if (epoch != p.epoch) {
            p.recent.clear();
            p.epoch = epoch;
        }
        p.recent.addLast(new BatchMeta(firstSeq, lastSeq, firstOffset, lastOffset));
        while (p.recent.size() > BATCHES_KEPT) {
            p.recent.removeFirst();
        }
        p.lastTimestamp = Math.max(p.lastTimestamp, writeTime);
    }

    /** Forgets the producers silent longest while there are more than {@code maxProducers}. */
    private void evictBeyondCap() {
        Iterator<Producer> silentLongestFirst = producers.values().iterator();
        while (producers.size() > maxProducers) {
            silentLongestFirst.next();
            silentLongestFirst.remove();
            evicted++;
        }
    }

    /**
     * Forgets producers that have not written for longer than {@code expirationMs} before {@code now}; returns how
     * many. A last-write time beyond {@code now} (a snapshot written by an older version, which kept producer
     * timestamps) is first brought back to {@code now}, so that no producer outlives the expiration by claiming to
     * have written in the future.
     */
    int expire(long now, long expirationMs) {
        int before = producers.size();
        producers.values().removeIf(p -> {
            p.lastTimestamp = Math.min(p.lastTimestamp, now);
            return p.lastTimestamp < now - expirationMs;
        });
        return before - producers.size();
    }

    /** Drops what the log no longer holds: batches at or above {@code offset}. */
    void truncateTo(long offset) {
        Iterator<Producer> it = producers.values().iterator();
        while (it.hasNext()) {
            Producer p = it.next();
            p.recent.removeIf(b -> b.lastOffset >= offset);
            if (p.recent.isEmpty()) {
                it.remove();
            }
        }
    }

    void clear() {
        producers.clear();
    }

    int producerCount() {
        return producers.size();
    }

    /** Producers forgotten because there were more than {@code maxProducers}, since this object was created. */
    long evictedCount() {
        return evicted;
    }

    /** The state as snapshot bytes, valid for batches below {@code offset}; write them with {@link #writeSnapshot}. */
    ByteBuffer snapshotBytes(long offset) {
        int size = 2 + 8 + 4;
        for (Producer p : producers.values()) {
            size += 8 + 2 + 8 + 1 + p.recent.size() * 24;
        }
        ByteBuffer buf = ByteBuffer.allocate(size + 4);
        buf.putShort(VERSION).putLong(offset).putInt(producers.size());
        producers.forEach((id, p) -> {
            buf.putLong(id).putShort(p.epoch).putLong(p.lastTimestamp).put((byte) p.recent.size());
            for (BatchMeta b : p.recent) {
                buf.putInt(b.firstSeq).putInt(b.lastSeq).putLong(b.firstOffset).putLong(b.lastOffset);
            }
        });
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, size);
        buf.putInt((int) crc.getValue()).flip();
        return buf;
    }

    /** Replaces the snapshot file atomically. Any thread; the caller serialises concurrent writes. */
    static void writeSnapshot(Path dir, ByteBuffer bytes) throws IOException {
        DurableFiles.replace(dir, SNAPSHOT_FILE, bytes);
    }

    /**
     * Loads the snapshot if it is intact; returns the offset it covers (the caller replays batches from there), or
     * empty when there is none or it is corrupt (the caller rebuilds from the start of the log).
     */
    Optional<Long> loadSnapshot(Path dir) {
        clear();
        Path file = dir.resolve(SNAPSHOT_FILE);
        try {
            if (!Files.exists(file)) {
                return Optional.empty();
            }
            ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file));
            if (buf.remaining() < 18) {
                return Optional.empty();
            }
            CRC32C crc = new CRC32C();
            crc.update(buf.array(), 0, buf.limit() - 4);
            if ((int) crc.getValue() != buf.getInt(buf.limit() - 4) || buf.getShort() != VERSION) {
                return Optional.empty();
            }
            long offset = buf.getLong();
            int count = buf.getInt();
            for (int i = 0; i < count; i++) {
                long id = buf.getLong();
                Producer p = new Producer();
                p.epoch = buf.getShort();
                p.lastTimestamp = buf.getLong();
                int batches = buf.get();
                for (int b = 0; b < batches; b++) {
                    p.recent.addLast(new BatchMeta(buf.getInt(), buf.getInt(), buf.getLong(), buf.getLong()));
                }
                producers.put(id, p);
            }
            // Written under a larger cap, perhaps.
            evictBeyondCap();
            return Optional.of(offset);
        } catch (IOException | RuntimeException e) {
            clear();
            return Optional.empty();
        }
    }
}
