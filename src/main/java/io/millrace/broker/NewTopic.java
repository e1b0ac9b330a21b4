package io.millrace.broker;

import java.util.Map;
import java.util.OptionalInt;

/**
 * A request to create a topic; an empty partition count or replication factor takes the broker's default
 * ({@code num.partitions}, {@code default.replication.factor}).
 */
public record NewTopic(String name, OptionalInt partitions, OptionalInt replicationFactor, Map<String, String> config) {

    public NewTopic {
        config = Map.copyOf(config);
    }

    public static NewTopic of(String name, int partitions) {
        return new NewTopic(name, OptionalInt.of(partitions), OptionalInt.empty(), Map.of());
    }
}
