package io.millrace.partition;

import io.millrace.common.TopicPartition;
import io.millrace.storage.LogSlice;
import java.util.OptionalLong;
import java.util.Set;

/** What a partition verticle answers. Failures travel as event bus failures carrying an ErrorCode's number. */
public sealed interface PartitionResponse {

    /** A batch was appended at {@code baseOffset}..{@code lastOffset}. */
    record Produced(long baseOffset, long lastOffset, OptionalLong logAppendTime, long logStartOffset)
            implements PartitionResponse {
    }

    /**
     * Whole batches from the requested offset, all below the high watermark; empty if the wait ran out. The slice
     * is a file region: read it or send it, never keep it for long.
     */
    record Fetched(LogSlice records, long highWatermark, long logStartOffset, long logEndOffset)
            implements PartitionResponse {
    }

    /** A resolved offset, with the timestamp of the record found (-1 when resolved without a timestamp search). */
    record Offset(long offset, long timestamp) implements PartitionResponse {
    }

    /** The state of one partition replica as its leader sees it. */
    record Status(TopicPartition topicPartition, int leaderId, int leaderEpoch, Set<Integer> inSyncReplicas,
                  long logStartOffset, long logEndOffset, long highWatermark, long sizeBytes)
            implements PartitionResponse {
    }
}
