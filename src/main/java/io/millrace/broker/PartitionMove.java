package io.millrace.broker;

import java.util.List;

/**
 * One entry of a reassignment plan: partition {@code partition} of {@code topic} is to have exactly {@code replicas},
 * the first its preferred leader.
 */
public record PartitionMove(String topic, int partition, List<Integer> replicas) {

    public PartitionMove {
        replicas = List.copyOf(replicas);
    }
}
