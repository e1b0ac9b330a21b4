package io.millrace.partition;

/**
 * Offsets and size of a partition replica at one moment; immutable, published by its verticle for metrics, health
 * and descriptions. {@code leader} says whether this replica leads; {@code inSyncReplicas} and {@code replicas}
 * count the leader's in-sync set and the assigned replicas (a leader with fewer in sync is under-replicated).
 * A follower's {@code highWatermark} is the last one its leader told it. {@code maxFollowerLag}: on a leader, how many
 * records its furthest-behind follower still has to copy.
 */
public record PartitionStats(long logStartOffset, long logEndOffset, long highWatermark, long sizeBytes,
                             boolean leader, int leaderEpoch, int inSyncReplicas, int replicas,
                             long maxFollowerLag) {

    public static final PartitionStats EMPTY = new PartitionStats(0, 0, 0, 0, false, -1, 0, 0, 0);

    public boolean underReplicated() {
        return leader && inSyncReplicas < replicas;
    }
}
