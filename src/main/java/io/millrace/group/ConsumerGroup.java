package io.millrace.group;

import java.util.Optional;
import java.util.TreeMap;

/**
 * One group's membership: phase, generation, strategy and members (its committed offsets live in
 * {@link OffsetCache}). The decisions live in {@link GroupCoordinator}; this class holds the data and refuses
 * transitions the state table does not allow. Not thread-safe: only the coordinator's owner thread touches it.
 */
final class ConsumerGroup {

    final String groupId;
    /** Sorted by member id, so that every iteration (and thus every assignment) is reproducible. */
    final TreeMap<String, Member> members = new TreeMap<>();

    private GroupPhase phase = GroupPhase.EMPTY;
    private int generation;
    private AssignmentStrategy strategy;

    ConsumerGroup(String groupId) {
        this.groupId = groupId;
    }

    GroupPhase phase() {
        return phase;
    }

    GroupState state() {
        return phase.state();
    }

    boolean is(GroupState state) {
        return phase.state() == state;
    }

    /** Moves to {@code next}; throws when the state table does not allow it (a coordinator bug, never input). */
    void transitionTo(GroupPhase next) {
        if (!next.state().canFollow(phase.state())) {
            throw new IllegalStateException("Group " + groupId + " cannot go from " + phase.state() + " to "
                    + next.state());
        }
        phase = next;
        if (next.state() == GroupState.EMPTY) {
            strategy = null; // an empty group takes the strategy of whoever joins it next
        }
    }

    int generation() {
        return generation;
    }

    void nextGeneration() {
        generation++;
    }

    Optional<AssignmentStrategy> strategy() {
        return Optional.ofNullable(strategy);
    }

    boolean hasMembers() {
        return !members.isEmpty();
    }

    void add(Member member, AssignmentStrategy memberStrategy) {
        if (members.isEmpty()) {
            strategy = memberStrategy;
        }
        members.put(member.memberId, member);
    }

}
