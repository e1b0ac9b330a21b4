package io.millrace.partition;

import io.millrace.common.TopicPartition;

/** Event bus addresses of partition verticles. */
public final class PartitionAddress {

    private PartitionAddress() {
    }

    /** Where the verticle owning {@code tp} on this broker listens. */
    public static String of(TopicPartition tp) {
        return "millrace.partition." + tp.topic() + "." + tp.partition();
    }
}
