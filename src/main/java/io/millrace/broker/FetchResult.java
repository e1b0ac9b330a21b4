package io.millrace.broker;

import io.millrace.common.TopicPartition;
import io.millrace.storage.LogSlice;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Whole record batches read from a partition, all below its high watermark, as a file region (send it or read it
 * promptly: retention may delete the segment later). The first batch may start before the offset asked for;
 * readers skip records below it.
 *
 * <p>One result may be handed to many subscriptions (they share a fetch when they wait at the same position), so the
 * region is read into memory at most once, by the first {@link #readRecords()}. Confined to one event loop.
 */
public final class FetchResult {

    private final TopicPartition topicPartition;
    private final LogSlice records;
    private final long highWatermark;
    private final long logStartOffset;
    private final long logEndOffset;
    private ByteBuffer read;

    public FetchResult(TopicPartition topicPartition, LogSlice records, long highWatermark, long logStartOffset,
                       long logEndOffset) {
        this.topicPartition = Objects.requireNonNull(topicPartition, "topicPartition");
        this.records = Objects.requireNonNull(records, "records");
        this.highWatermark = highWatermark;
        this.logStartOffset = logStartOffset;
        this.logEndOffset = logEndOffset;
    }

    /** Batches another broker read and sent. TEMPORARY until the one-boundary change lands (buffer form). */
    static FetchResult ofBytes(TopicPartition tp, io.vertx.core.buffer.Buffer records, long firstOffset,
                               long nextOffset, long highWatermark, long logStartOffset, long logEndOffset) {
        throw new UnsupportedOperationException("remote fetch results need the buffer form");
    }

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    /** The region in its segment file, for zero-copy sends. */
    public LogSlice records() {
        return records;
    }

    public long highWatermark() {
        return highWatermark;
    }

    public long logStartOffset() {
        return logStartOffset;
    }

    public long logEndOffset() {
        return logEndOffset;
    }

    /** The offset to read next. */
    public long nextOffset() {
        return records.nextOffset();
    }

    /**
     * The region's bytes, read from the file on the first call; each call returns its own view (position 0, limit
     * the size) of the same read-only memory.
     */
    public ByteBuffer readRecords() {
        if (read == null) {
            read = records.readFully().asReadOnlyBuffer();
        }
        return read.duplicate();
    }

    @Override
    public String toString() {
        return "FetchResult[" + topicPartition + ", offsets " + records.firstOffset() + ".." + records.nextOffset()
                + ", " + records.sizeInBytes() + " bytes, highWatermark " + highWatermark + "]";
    }
}
