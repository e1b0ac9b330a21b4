package io.millrace.partition;

import io.millrace.common.TopicPartition;
import io.vertx.core.eventbus.DeliveryOptions;

/** Event bus addresses of partition verticles, and how to send to them. */
public final class PartitionAddress {

    private PartitionAddress() {
    }

    /** Where the verticle owning {@code tp} on this broker listens. */
    public static String of(TopicPartition tp) {
        return "millrace.partition." + tp.topic() + "." + tp.partition();
    }

    /**
     * How to send a request to a partition verticle of this broker: by reference ({@link LocalCodec}) and local only.
     * The verticle's consumer is local anyway; without {@code localOnly} the clustered event bus would first ask the
     * cluster who listens on the address and keep, per address ever sent to, a selector entry with its own queue
     * (about 5 KiB each: 100 MiB of heap for a broker that has written to 20,000 partitions).
     */
    public static DeliveryOptions delivery(long sendTimeoutMs) {
        return new DeliveryOptions().setCodecName(LocalCodec.NAME).setLocalOnly(true).setSendTimeout(sendTimeoutMs);
    }
}
