package io.millrace.broker;

import io.millrace.common.TopicPartition;
import java.util.OptionalLong;

/**
 * Where a produced batch landed. With {@code acks=0} the broker does not wait for the write, so the offsets are -1.
 */
public record ProduceResult(TopicPartition topicPartition, long baseOffset, long lastOffset,
                            OptionalLong logAppendTime, long logStartOffset) {
}
