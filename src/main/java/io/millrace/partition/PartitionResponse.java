package io.millrace.partition;

import io.millrace.common.EpochEndOffset;
import io.millrace.common.TopicPartition;
import io.vertx.core.buffer.Buffer;
import java.util.Optional;
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

    /**
     * The state of one partition replica as its leader sees it. {@code leaderEpochStartOffset} is the leader's log
     * end when it took over: everything below it that any earlier leader acknowledged is committed once the high
     * watermark passes it (a new coordinator waits for that before loading the offsets topic).
     */
    record Status(TopicPartition topicPartition, int leaderId, int leaderEpoch, Set<Integer> inSyncReplicas,
                  long logStartOffset, long logEndOffset, long highWatermark, long sizeBytes,
                  long leaderEpochStartOffset)
            implements PartitionResponse {
    }

    /**
     * The leader's answer to a {@link PartitionRequest.ReplicaFetch}: whole batches from the fetch offset (up to the
     * leader's log end, not just its high watermark), or, when the follower's log diverged, where the leader's log
     * of the follower's last epoch ends, so the follower can truncate its divergent tail. A follower whose fetch
     * offset is below {@code logStartOffset} starts over there. Crosses brokers with {@link ReplicationCodec}.
     */
    record ReplicaData(int leaderEpoch, long highWatermark, long logStartOffset, long logEndOffset, Buffer records,
                       Optional<EpochEndOffset> divergingEpoch) implements PartitionResponse {
    }
}
