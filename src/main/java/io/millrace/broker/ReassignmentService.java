package io.millrace.broker;

import io.millrace.cluster.MetadataStore;
import io.millrace.cluster.PartitionAssignment;
import io.millrace.cluster.Reassignment;
import io.millrace.cluster.ReplicaPlans;
import io.millrace.cluster.TopicMetadata;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@link Reassignments} over this broker's cached view of ZooKeeper: it checks plans and stores moves; the controller
 * ({@link io.millrace.cluster.ClusterController}) carries them out. Thread-safe.
 */
public final class ReassignmentService implements Reassignments {

    private final MetadataStore store;

    public ReassignmentService(MetadataStore store) {
        this.store = store;
    }

    @Override
    public Future<List<PartitionMove>> reassign(List<PartitionMove> plan) {
        List<Reassignment> moves = new ArrayList<>();
        List<PartitionMove> started = new ArrayList<>();
        try {
            Set<Integer> live = store.cachedLiveBrokers().keySet();
            Map<TopicPartition, Reassignment> inProgress = inProgress();
            Set<TopicPartition> seen = new HashSet<>();
            for (PartitionMove move : plan) {
                TopicPartition tp = new TopicPartition(move.topic(), move.partition());
                if (!seen.add(tp)) {
                    throw new MillraceException(ErrorCode.INVALID_REQUEST, "The plan moves " + tp + " twice");
                }
                TopicMetadata topic = store.cachedTopic(move.topic()).orElseThrow(() -> new MillraceException(
                        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic " + move.topic() + " does not exist"));
                PartitionAssignment p = topic.partition(move.partition());
                check(tp, move.replicas(), topic.minInSyncReplicas(), live);
                Reassignment existing = inProgress.get(tp);
                if (existing == null && p.replicas().equals(move.replicas())) {
                    continue;
                }
                List<Integer> original = existing != null ? existing.original() : p.replicas();
                moves.add(new Reassignment(move.topic(), move.partition(), original, move.replicas(), -1));
                started.add(move);
            }
        } catch (MillraceException e) {
            return Future.failedFuture(e);
        }
        return store.writeReassignments(moves).map(v -> List.copyOf(started));
    }

    private static void check(TopicPartition tp, List<Integer> replicas, int minInSync, Set<Integer> live) {
        if (replicas.isEmpty() || new HashSet<>(replicas).size() != replicas.size()) {
            throw new MillraceException(ErrorCode.INVALID_REPLICA_ASSIGNMENT, tp + ": replicas " + replicas
                    + " must name at least one broker, each once");
        }
        if (replicas.size() < minInSync) {
            throw new MillraceException(ErrorCode.INVALID_REPLICA_ASSIGNMENT, tp + ": replicas " + replicas
                    + " are fewer than the topic's min.insync.replicas=" + minInSync + ", so acks=all would fail");
        }
        for (int broker : replicas) {
            if (!live.contains(broker)) {
                throw new MillraceException(ErrorCode.BROKER_NOT_AVAILABLE, tp + ": broker " + broker
                        + " is not alive (live brokers: " + live.stream().sorted().toList() + ")");
            }
        }
    }

    @Override
    public Future<List<MoveProgress>> reassignments() {
        Set<Integer> live = store.cachedLiveBrokers().keySet();
        List<MoveProgress> out = new ArrayList<>();
        for (Reassignment move : store.cachedReassignments()) {
            Optional<TopicMetadata> topic = store.cachedTopic(move.topic());
            if (topic.isEmpty() || move.partition() >= topic.get().partitionCount()) {
                continue;
            }
            PartitionAssignment p = topic.get().partition(move.partition());
            out.add(new MoveProgress(move.topic(), move.partition(), move.original(), move.target(), p.replicas(),
                    p.isr(), p.leader(), move.phase(p, live).name(),
                    move.target().stream().filter(b -> !p.isr().contains(b)).toList(),
                    p.replicas().stream().filter(b -> !move.target().contains(b)).toList()));
        }
        return Future.succeededFuture(out);
    }

    @Override
    public Future<Integer> cancel(Collection<TopicPartition> partitions) {
        Map<TopicPartition, Reassignment> inProgress = inProgress();
        List<Reassignment> cancels = new ArrayList<>();
        if (partitions.isEmpty()) {
            inProgress.values().forEach(r -> cancels.add(r.cancelled()));
        } else {
            for (TopicPartition tp : partitions) {
                Reassignment move = inProgress.get(tp);
                if (move == null) {
                    return Future.failedFuture(new MillraceException(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
                            tp + " is not being reassigned"));
                }
                cancels.add(move.cancelled());
            }
        }
        return store.writeReassignments(cancels).map(v -> cancels.size());
    }

    @Override
    public Future<List<PartitionMove>> rebalancePlan() {
        try {
            return Future.succeededFuture(moves(ReplicaPlans.rebalance(currentReplicas(),
                    store.cachedLiveBrokers().keySet())));
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(new MillraceException(ErrorCode.INVALID_REPLICA_ASSIGNMENT, e.getMessage()));
        }
    }

    @Override
    public Future<List<PartitionMove>> decommissionPlan(int brokerId) {
        try {
            return Future.succeededFuture(moves(ReplicaPlans.decommission(currentReplicas(), brokerId,
                    store.cachedLiveBrokers().keySet())));
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(new MillraceException(ErrorCode.INVALID_REPLICA_ASSIGNMENT, e.getMessage()));
        }
    }

    /** Every partition's replicas: where a move is in progress, its target (a plan starts from where moves end). */
    private Map<TopicPartition, List<Integer>> currentReplicas() {
        Map<TopicPartition, Reassignment> inProgress = inProgress();
        Map<TopicPartition, List<Integer>> current = new LinkedHashMap<>();
        for (String name : store.cachedTopicNames()) {
            store.cachedTopic(name).ifPresent(topic -> topic.partitions().forEach(p -> {
                TopicPartition tp = topic.topicPartition(p.partition());
                Reassignment move = inProgress.get(tp);
                if (move != null) {
                    current.put(tp, move.target());
                } else if (!p.replicas().isEmpty()) {
                    current.put(tp, p.replicas());
                }
            }));
        }
        return current;
    }

    private Map<TopicPartition, Reassignment> inProgress() {
        Map<TopicPartition, Reassignment> out = new HashMap<>();
        store.cachedReassignments().forEach(r -> out.put(new TopicPartition(r.topic(), r.partition()), r));
        return out;
    }

    private static List<PartitionMove> moves(Map<TopicPartition, List<Integer>> plan) {
        List<PartitionMove> out = new ArrayList<>();
        plan.forEach((tp, replicas) -> out.add(new PartitionMove(tp.topic(), tp.partition(), replicas)));
        return out;
    }
}
