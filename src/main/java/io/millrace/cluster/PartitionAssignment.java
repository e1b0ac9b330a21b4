package io.millrace.cluster;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The state of one partition, as stored in its own ZooKeeper node {@code /millrace/topics/<name>/partitions/<p>}:
 * its replicas (the first is the preferred leader), the current leader (-1 while no in-sync replica is alive) and its
 * epoch, and the in-sync replicas. The leader epoch grows by one at every leader change, so stale leaders can be
 * fenced. {@code version} is the node's ZooKeeper version (-1 when not read from ZooKeeper): every change is a
 * conditional update on it, so the controller's elections and the leader's ISR changes never overwrite each other.
 */
public record PartitionAssignment(int partition, List<Integer> replicas, int leader, int leaderEpoch,
                                  List<Integer> isr, int version) {

    public static final int NO_LEADER = -1;

    public PartitionAssignment {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }

    public PartitionAssignment(int partition, List<Integer> replicas, int leader, int leaderEpoch,
                               List<Integer> isr) {
        this(partition, replicas, leader, leaderEpoch, isr, -1);
    }

    /** A partition whose state node has not been seen yet (a topic being created). */
    static PartitionAssignment unknown(int partition) {
        return new PartitionAssignment(partition, List.of(), NO_LEADER, -1, List.of(), -1);
    }

    public boolean hasLeader() {
        return leader != NO_LEADER;
    }

    public PartitionAssignment withLeader(int newLeader, int newEpoch, List<Integer> newIsr) {
        return new PartitionAssignment(partition, replicas, newLeader, newEpoch, newIsr, version);
    }

    public PartitionAssignment withIsr(List<Integer> newIsr) {
        return new PartitionAssignment(partition, replicas, leader, leaderEpoch, newIsr, version);
    }

    /** This state with other replicas and in-sync set, in the same leader epoch (a step of a reassignment). */
    public PartitionAssignment withReplicas(List<Integer> newReplicas, List<Integer> newIsr) {
        return new PartitionAssignment(partition, newReplicas, leader, leaderEpoch, newIsr, version);
    }

    public PartitionAssignment withVersion(int newVersion) {
        return new PartitionAssignment(partition, replicas, leader, leaderEpoch, isr, newVersion);
    }

    JsonObject toJson() {
        return new JsonObject().put("partition", partition).put("replicas", new JsonArray(replicas))
                .put("leader", leader).put("leaderEpoch", leaderEpoch).put("isr", new JsonArray(isr));
    }

    static PartitionAssignment fromJson(JsonObject json, int version) {
        return new PartitionAssignment(json.getInteger("partition"), ints(json.getJsonArray("replicas")),
                json.getInteger("leader"), json.getInteger("leaderEpoch"), ints(json.getJsonArray("isr")), version);
    }

    private static List<Integer> ints(JsonArray array) {
        return array.stream().map(o -> ((Number) o).intValue()).toList();
    }
}
