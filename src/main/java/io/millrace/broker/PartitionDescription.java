package io.millrace.broker;

import java.util.List;

/**
 * One partition: who holds it and how far its log reaches. Offsets and size are -1 when the leader could not be
 * asked (it is not on this broker and not reachable).
 */
public record PartitionDescription(int partition, int leader, int leaderEpoch, List<Integer> replicas,
                                   List<Integer> isr, long logStartOffset, long logEndOffset, long highWatermark,
                                   long sizeBytes) {

    public PartitionDescription {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }

    /** In-sync replicas fewer than replicas. */
    public boolean underReplicated() {
        return isr.size() < replicas.size();
    }
}
