package io.millrace.group;

/**
 * The assignment strategies a group can use. A group's strategy is fixed by the member that joins it first, and
 * stays until the group is empty again; a member asking for another one is refused
 * {@code INCONSISTENT_GROUP_PROTOCOL}.
 */
public enum AssignmentStrategy {
    /** Per topic, contiguous ranges of partitions over the members sorted by id (Kafka's {@code range}). */
    RANGE(new RangeAssignor()),
    /** All partitions of all subscribed topics dealt over the sorted members in turn (Kafka's {@code roundrobin}). */
    ROUND_ROBIN(new RoundRobinAssignor()),
    /** Keep what members own, balance, move the minimum; cooperative hand-over (Kafka's {@code cooperative-sticky}). */
    COOPERATIVE_STICKY(new CooperativeStickyAssignor());

    private final Assignor assignor;

    AssignmentStrategy(Assignor assignor) {
        this.assignor = assignor;
    }

    /** The (stateless, thread-safe) assignor that implements this strategy. */
    public Assignor assignor() {
        return assignor;
    }

    public RebalanceProtocol protocol() {
        return assignor.protocol();
    }
}
