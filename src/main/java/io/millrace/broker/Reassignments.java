package io.millrace.broker;

import io.millrace.common.TopicPartition;
import io.vertx.core.Future;
import java.util.Collection;
import java.util.List;

/**
 * Moving partitions between brokers online, the part of the broker API that grows and shrinks a cluster. Any broker
 * answers: a move is stored in ZooKeeper, and the controller carries it out (add the new replicas, wait until they are
 * in sync, move leadership, drop the old ones) and resumes it if the controller changes. Calls may be made from any
 * Vert.x context; failures are {@link io.millrace.common.MillraceException}s.
 */
public interface Reassignments {

    /**
     * Starts the moves of a plan. Each names a partition that exists and distinct live brokers, at least the topic's
     * {@code min.insync.replicas} of them; a partition may appear once. A partition already moving is redirected to
     * the new target (a cancel still takes it back to where it was before the first move). Checks the whole plan
     * before storing any of it. Completes with the moves started: those whose target differs from the replicas now.
     * Errors: {@code UNKNOWN_TOPIC_OR_PARTITION}, {@code INVALID_REPLICA_ASSIGNMENT}, {@code BROKER_NOT_AVAILABLE},
     * {@code INVALID_REQUEST} (a partition twice).
     */
    Future<List<PartitionMove>> reassign(List<PartitionMove> plan);

    /** Every move in progress, by topic and partition. */
    Future<List<MoveProgress>> reassignments();

    /**
     * Cancels moves: each partition goes back to its replicas before the move (replicas being added are dropped).
     * An empty collection cancels every move in progress. Completes with the number cancelled; a partition named
     * without a move fails the call with {@code NO_REASSIGNMENT_IN_PROGRESS}, cancelling nothing.
     */
    Future<Integer> cancel(Collection<TopicPartition> partitions);

    /**
     * A plan (not started) that spreads every partition's replicas, and then preferred leaders, evenly over the live
     * brokers, moving as few replicas as it can. Review it, then pass it to {@link #reassign}.
     */
    Future<List<PartitionMove>> rebalancePlan();

    /**
     * A plan (not started) that moves every replica off broker {@code brokerId} onto the other live brokers. Fails
     * with {@code INVALID_REPLICA_ASSIGNMENT} when some partition would have nowhere to go.
     */
    Future<List<PartitionMove>> decommissionPlan(int brokerId);
}
