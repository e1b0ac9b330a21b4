package io.millrace.partition;

import io.millrace.record.RecordBatch;

/**
 * What a partition verticle is asked over the event bus. Same-node requests travel as these objects without being
 * serialized (see {@link LocalCodec}).
 */
public sealed interface PartitionRequest {

    /**
     * Append one batch as leader.
     *
     * @param batch a whole RecordBatch v2; the verticle rewrites its offsets in place, so the sender must not reuse it
     */
    record Produce(RecordBatch batch, Acks acks) implements PartitionRequest {
    }

    /**
     * Read committed records from {@code offset}. If none are there yet, wait up to {@code maxWaitMs} for some.
     */
    record Fetch(long offset, int maxBytes, long maxWaitMs) implements PartitionRequest {
    }

    /** Resolve a start position to an offset. */
    record ListOffset(OffsetSpec spec) implements PartitionRequest {
    }

    /** Report the partition's state. */
    record Describe() implements PartitionRequest {
    }
}
