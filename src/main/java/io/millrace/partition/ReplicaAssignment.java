package io.millrace.partition;

import java.util.List;

/**
 * What the cluster says about one partition, as a replica's verticle needs it: who leads in which epoch, the
 * replicas and the in-sync set, the version of that state (for the conditional update of an ISR change), and the
 * topic's {@code min.insync.replicas}. {@code leader} is -1 while no in-sync replica is alive.
 */
public record ReplicaAssignment(int leader, int leaderEpoch, List<Integer> replicas, List<Integer> isr, int version,
                                int minInSyncReplicas) {

    public ReplicaAssignment {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }

    public ReplicaAssignment withIsr(List<Integer> newIsr) {
        return new ReplicaAssignment(leader, leaderEpoch, replicas, newIsr, version, minInSyncReplicas);
    }
}
