package io.millrace.broker;

import java.util.List;
import java.util.Map;

/** A topic with the live state of each partition. */
public record TopicDescription(String name, int replicationFactor, Map<String, String> config,
                               List<PartitionDescription> partitions) {

    public TopicDescription {
        config = Map.copyOf(config);
        partitions = List.copyOf(partitions);
    }
}
