package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The committed offsets of every group, exactly as a replay of the completed appends to the offsets topic gives
 * them: a record (commit or tombstone) enters only when its append completes, and appends complete in log order. It
 * is kept apart from group membership on purpose: a group can be deleted and a new one with the same id created
 * while the old tombstones are still in flight, and the offsets still follow the log. Also tracks appends in flight
 * per group, so that a delete tombstones keys that are not durable yet. Not thread-safe: the coordinator's owner
 * thread uses it.
 */
final class OffsetCache {

    /** Empty, but with the partition order: {@code Collections.emptyNavigableMap()} would compare partitions. */
    private static final NavigableMap<TopicPartition, CommittedOffset> NONE =
            Collections.unmodifiableNavigableMap(new TreeMap<>(Assignments.ORDER));

    private final TreeMap<String, TreeMap<TopicPartition, CommittedOffset>> offsets = new TreeMap<>();
    private final Map<String, Map<TopicPartition, Integer>> inFlight = new HashMap<>();

    void apply(OffsetRecord record) {
        if (record.committed().isPresent()) {
            offsets.computeIfAbsent(record.groupId(), g -> new TreeMap<>(Assignments.ORDER))
                    .put(record.topicPartition(), record.committed().get());
        } else {
            TreeMap<TopicPartition, CommittedOffset> group = offsets.get(record.groupId());
            if (group != null) {
                group.remove(record.topicPartition());
                if (group.isEmpty()) {
                    offsets.remove(record.groupId());
                }
            }
        }
    }

    /** A group's offsets, sorted; empty if none. Unmodifiable view. */
    NavigableMap<TopicPartition, CommittedOffset> offsets(String groupId) {
        TreeMap<TopicPartition, CommittedOffset> group = offsets.get(groupId);
        return group == null ? NONE : Collections.unmodifiableNavigableMap(group);
    }

    /** Ids of the groups that have offsets, sorted. */
    Set<String> groupIds() {
        return Collections.unmodifiableSet(offsets.keySet());
    }

    void startAppend(Iterable<OffsetRecord> records) {
        records.forEach(r -> inFlight.computeIfAbsent(r.groupId(), g -> new HashMap<>())
                .merge(r.topicPartition(), 1, Integer::sum));
    }

    void endAppend(Iterable<OffsetRecord> records) {
        for (OffsetRecord r : records) {
            Map<TopicPartition, Integer> group = inFlight.get(r.groupId());
            group.computeIfPresent(r.topicPartition(), (tp, n) -> n == 1 ? null : n - 1);
            if (group.isEmpty()) {
                inFlight.remove(r.groupId());
            }
        }
    }

    /** Partitions of the group with appends in flight. */
    Set<TopicPartition> inFlight(String groupId) {
        return inFlight.getOrDefault(groupId, Map.of()).keySet();
    }

    /**
     * Forgets the offsets and in-flight counts of the groups {@code groupIds} accepts (the coordinator no longer
     * holds them; their pending appends will not call {@link #endAppend}). Returns their ids.
     */
    Set<String> unload(Predicate<String> groupIds) {
        Set<String> unloaded = new TreeSet<>();
        for (String id : offsets.keySet()) {
            if (groupIds.test(id)) {
                unloaded.add(id);
            }
        }
        for (String id : inFlight.keySet()) {
            if (groupIds.test(id)) {
                unloaded.add(id);
            }
        }
        offsets.keySet().removeAll(unloaded);
        inFlight.keySet().removeAll(unloaded);
        return unloaded;
    }

    /** Whether the group has offsets or appends in flight. */
    boolean holds(String groupId) {
        return offsets.containsKey(groupId) || inFlight.containsKey(groupId);
    }
}
