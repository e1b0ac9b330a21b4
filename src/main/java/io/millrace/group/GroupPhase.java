package io.millrace.group;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A group's state together with what only that state needs: the deadline and the waiting joins of a rebalance, the
 * members a cooperative generation waits for. One type per state, so data cannot outlive its state. The transitions
 * are in {@link GroupCoordinator}'s class comment. Not thread-safe: the coordinator's owner thread uses it.
 */
sealed interface GroupPhase {

    Empty EMPTY = new Empty();
    Stable STABLE = new Stable();
    Dead DEAD = new Dead();

    GroupState state();

    record Empty() implements GroupPhase {
        @Override
        public GroupState state() {
            return GroupState.EMPTY;
        }
    }

    /**
     * Waiting for members to rejoin.
     *
     * @param deadlineMs  members that have not rejoined by then are removed and the rebalance completes
     * @param notBeforeMs the rebalance does not complete earlier (initial delay of an empty group's first rebalance)
     */
    record PreparingRebalance(long deadlineMs, long notBeforeMs, Map<String, Completion<JoinResult>> joined)
            implements GroupPhase {

        PreparingRebalance(long deadlineMs, long notBeforeMs) {
            this(deadlineMs, notBeforeMs, new TreeMap<>());
        }

        @Override
        public GroupState state() {
            return GroupState.PREPARING_REBALANCE;
        }
    }

    /**
     * A cooperative generation withholds partitions until their old owners have rejoined.
     *
     * @param deadlineMs         revoking members that have not rejoined by then are removed
     * @param awaitingRevocation the members that must rejoin to confirm a revocation
     */
    record CompletingRebalance(long deadlineMs, Set<String> awaitingRevocation) implements GroupPhase {

        public CompletingRebalance {
            awaitingRevocation = Set.copyOf(awaitingRevocation);
        }

        @Override
        public GroupState state() {
            return GroupState.COMPLETING_REBALANCE;
        }
    }

    record Stable() implements GroupPhase {
        @Override
        public GroupState state() {
            return GroupState.STABLE;
        }
    }

    record Dead() implements GroupPhase {
        @Override
        public GroupState state() {
            return GroupState.DEAD;
        }
    }
}
