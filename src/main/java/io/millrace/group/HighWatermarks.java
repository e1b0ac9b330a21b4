package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.OptionalLong;

/**
 * Looks up a partition's high watermark (the end of its committed records), to compute consumer lag. A host gathers
 * the values from the partition leaders first, then hands a map-backed lookup to {@link GroupDescription#lag}.
 */
@FunctionalInterface
public interface HighWatermarks {

    /** Knows no partition. */
    HighWatermarks NONE = tp -> OptionalLong.empty();

    /** The high watermark, or empty when unknown (partition offline or deleted). */
    OptionalLong highWatermark(TopicPartition partition);
}
