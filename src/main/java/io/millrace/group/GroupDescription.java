package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/**
 * A snapshot of one group for admin tools: state, generation, members and committed offsets. Immutable; it does not
 * change when the group does.
 *
 * @param generation the current generation (0 for a group that never completed a rebalance here)
 * @param strategy   empty while the group has no members
 * @param members    sorted by member id
 * @param offsets    the committed offsets, sorted by partition
 */
public record GroupDescription(String groupId, GroupState state, int generation,
                               Optional<AssignmentStrategy> strategy, List<MemberDescription> members,
                               Map<TopicPartition, CommittedOffset> offsets) {

    public GroupDescription {
        members = List.copyOf(members);
        TreeMap<TopicPartition, CommittedOffset> sorted = new TreeMap<>(Assignments.ORDER);
        sorted.putAll(offsets);
        offsets = Collections.unmodifiableMap(sorted);
    }

    /** Every partition the group has an offset for or a member owns, sorted. */
    public Set<TopicPartition> partitions() {
        Set<TopicPartition> all = Assignments.sortedSet(offsets.keySet());
        members.forEach(m -> all.addAll(Assignments.flatten(m.assignment())));
        return Collections.unmodifiableSet(all);
    }

    /**
     * Lag per partition of {@link #partitions()}, in that order: {@code highWatermark - committed}, where both are
     * known. A host first collects the high watermarks of {@link #partitions()} from their leaders.
     */
    public List<PartitionLag> lag(HighWatermarks highWatermarks) {
        Map<TopicPartition, String> owners = new HashMap<>();
        members.forEach(m -> Assignments.flatten(m.assignment()).forEach(tp -> owners.put(tp, m.memberId())));
        List<PartitionLag> lag = new ArrayList<>();
        for (TopicPartition tp : partitions()) {
            CommittedOffset c = offsets.get(tp);
            OptionalLong committed = c == null ? OptionalLong.empty() : OptionalLong.of(c.offset());
            OptionalLong hw = highWatermarks.highWatermark(tp);
            OptionalLong behind = committed.isPresent() && hw.isPresent()
                    ? OptionalLong.of(hw.getAsLong() - committed.getAsLong()) : OptionalLong.empty();
            lag.add(new PartitionLag(tp, Optional.ofNullable(owners.get(tp)), committed, hw, behind));
        }
        return List.copyOf(lag);
    }
}
