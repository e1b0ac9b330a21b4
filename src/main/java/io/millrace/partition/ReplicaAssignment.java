package io.millrace.partition;

import java.util.List;

/**
 * What the cluster says about one partition, as a replica's verticle needs it: who leads in which epoch, the
 * replicas and the in-sync set, the version of that state (for the conditional update of an ISR change), and the
 * topic's {@code min.insync.replicas}. {@code leader} is -1 while no in-sync replica is alive. {@code adding} is true
 * on a broker a reassignment is adding this partition to: until it joins the in-sync set, its fetches go through the
 * broker's {@link ReplicationThrottle}.
 */
public record ReplicaAssignment(int leader, int leaderEpoch, List<Integer> replicas, List<Integer> isr, int version,
                                int minInSyncReplicas, boolean adding) {

    public ReplicaAssignment {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }

    /** A state with no reassignment adding this replica. */
    public ReplicaAssignment(int leader, int leaderEpoch, List<Integer> replicas, List<Integer> isr, int version,
                             int minInSyncReplicas) {
        this(leader, leaderEpoch, replicas, isr, version, minInSyncReplicas, false);
    }

    public ReplicaAssignment withIsr(List<Integer> newIsr) {
        return new ReplicaAssignment(leader, leaderEpoch, replicas, newIsr, version, minInSyncReplicas, adding);
    }
}
