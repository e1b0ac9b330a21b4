package io.millrace.partition;

/** Offsets and size of a partition at one moment; immutable, published by its verticle for metrics and health. */
public record PartitionStats(long logStartOffset, long logEndOffset, long highWatermark, long sizeBytes) {

    public static final PartitionStats EMPTY = new PartitionStats(0, 0, 0, 0);
}
