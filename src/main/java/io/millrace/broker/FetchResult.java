package io.millrace.broker;

import io.millrace.common.TopicPartition;
import io.millrace.storage.LogSlice;

/**
 * Whole record batches read from a partition, all below its high watermark, as a file region (send it or read it
 * promptly: retention may delete the segment later). The first batch may start before the offset asked for;
 * readers skip records below it.
 */
public record FetchResult(TopicPartition topicPartition, LogSlice records, long highWatermark, long logStartOffset,
                          long logEndOffset) {

    /** The offset to read next. */
    public long nextOffset() {
        return records.nextOffset();
    }
}
