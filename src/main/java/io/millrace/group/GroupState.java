package io.millrace.group;

/**
 * The states of a consumer group, as admin tools show them. The transitions and what drives them are documented
 * in {@link GroupCoordinator}; {@link #canFollow} is that table's "from" column, checked on every transition.
 */
public enum GroupState {
    /** No members; the group may still hold committed offsets (or be used by consumers that only commit). */
    EMPTY,
    /** A rebalance is under way: waiting, up to the rebalance timeout, for every member to (re)join. */
    PREPARING_REBALANCE,
    /**
     * A cooperative generation has been handed out that withholds partitions: they were revoked from their old
     * owners and are owned by nobody until those members rejoin, which starts the follow-up rebalance.
     */
    COMPLETING_REBALANCE,
    /** Every member has its assignment and every subscribed partition has exactly one owner. */
    STABLE,
    /** Deleted, or unloaded (coordinated elsewhere now); the coordinator no longer holds it. Final. */
    DEAD;

    /** Whether a group may move from {@code previous} to this state. */
    public boolean canFollow(GroupState previous) {
        return switch (this) {
            case EMPTY, COMPLETING_REBALANCE, STABLE -> previous == PREPARING_REBALANCE;
            case PREPARING_REBALANCE -> previous == EMPTY || previous == COMPLETING_REBALANCE || previous == STABLE;
            // from Empty by a delete; from any state when the coordinator unloads the group
            case DEAD -> previous != DEAD;
        };
    }
}
