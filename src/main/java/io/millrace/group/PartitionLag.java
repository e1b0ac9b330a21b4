package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * How far a group is behind on one partition. Immutable.
 *
 * @param owner         the member that owns the partition now, if any
 * @param committed     the group's committed offset, if it committed one
 * @param highWatermark the partition's high watermark, if known
 * @param lag           {@code highWatermark - committed} when both are known. Not clamped: a negative lag means the
 *                      committed offset is past the end of the committed log (an offset reset beyond the end, or a
 *                      log truncated after an unclean leader change), which an operator should see
 */
public record PartitionLag(TopicPartition partition, Optional<String> owner, OptionalLong committed,
                           OptionalLong highWatermark, OptionalLong lag) {
}
