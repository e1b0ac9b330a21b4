package io.millrace.group;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The internal topic that holds committed offsets, and the two rules that make it work: where a group lives, and how
 * the topic is kept from growing forever. Stateless and thread-safe.
 */
public final class OffsetsTopic {

    public static final String NAME = "__consumer_offsets";

    private OffsetsTopic() {
    }

    /**
     * The partition of the offsets topic that holds a group's records. Its leader is the group's coordinator, so
     * coordination moves with leadership when a broker fails. Apache Kafka's rule, {@code Utils.abs(hashCode) % n}:
     * {@code Math.abs} except that {@link Integer#MIN_VALUE} maps to 0. (Not {@code Utils.toPositive}, which clears
     * the sign bit and so sends a group with a negative hash code to a different partition than Kafka does.)
     *
     * @param offsetsTopicPartitions the offsets topic's partition count, {@code > 0}; it must never change once
     *                               the topic holds commits, or groups would lose their offsets
     */
    public static int partitionFor(String groupId, int offsetsTopicPartitions) {
        if (offsetsTopicPartitions <= 0) {
            throw new IllegalArgumentException("offsetsTopicPartitions must be > 0, was " + offsetsTopicPartitions);
        }
        int hash = groupId.hashCode();
        int positive = hash == Integer.MIN_VALUE ? 0 : Math.abs(hash);
        return positive % offsetsTopicPartitions;
    }

    /**
     * The smallest list of records that loads to the same state as {@code records}: the last record of each key,
     * with keys whose last record is a tombstone left out, in the order of those last writes. A host snapshots the
     * offsets partition with it (or compacts closed segments), so the topic stays as large as the live commits.
     *
     * <p>Dropping tombstones is right only because the result replaces <em>all</em> of {@code records}: a tombstone
     * exists to delete older values, and those are gone too. Compacting only a later part of a log this way would let
     * the earlier part's values come back.
     */
    public static List<OffsetRecord> compact(Iterable<OffsetRecord> records) {
        Map<OffsetRecord.Key, OffsetRecord> latest = new LinkedHashMap<>();
        for (OffsetRecord record : records) {
            // remove first so that the insertion order is the order of the last writes
            latest.remove(record.key());
            latest.put(record.key(), record);
        }
        List<OffsetRecord> compacted = new ArrayList<>(latest.size());
        for (OffsetRecord record : latest.values()) {
            if (!record.isTombstone()) {
                compacted.add(record);
            }
        }
        return compacted;
    }
}
