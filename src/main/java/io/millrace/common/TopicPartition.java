package io.millrace.common;

import java.util.Objects;

/** A partition of a topic. Immutable; its string form {@code topic-partition} also names the partition's directory. */
public record TopicPartition(String topic, int partition) {

    public TopicPartition {
        Objects.requireNonNull(topic, "topic");
        if (partition < 0) {
            throw new IllegalArgumentException("partition must be >= 0, was " + partition);
        }
    }

    @Override
    public String toString() {
        return topic + "-" + partition;
    }
}
