package io.millrace.broker;

import io.millrace.common.TopicPartition;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * What a fetch of one partition returns to a front-end: whole record batches, all below the partition's high
 * watermark, and the partition's offsets at the time. The batches ({@link #records()}) are a region of a local segment
 * file or bytes in memory (from another broker, say); front-ends handle both through {@link FetchedRecords} alone.
 * Send or read a file region promptly: retention may delete its segment later. The first batch may start before the
 * offset asked for; readers skip records below it.
 *
 * <p>One result may be handed to many subscriptions (they share a fetch when they wait at the same position), so the
 * batches are read into memory at most once, by the first {@link #readRecords()}. Confined to one event loop.
 */
public final class FetchResult {

    private final TopicPartition topicPartition;
    private final FetchedRecords records;
    private final long highWatermark;
    private final long logStartOffset;
    private final long logEndOffset;
    private ByteBuffer read;

    /**
     * @param records        the batches read, e.g. {@link FetchedRecords#of} for bytes another broker sent
     * @param highWatermark  the partition's high watermark when it was read
     * @param logStartOffset its log start offset then
     * @param logEndOffset   its log end offset then
     */
    public FetchResult(TopicPartition topicPartition, FetchedRecords records, long highWatermark, long logStartOffset,
                       long logEndOffset) {
        this.topicPartition = Objects.requireNonNull(topicPartition, "topicPartition");
        this.records = Objects.requireNonNull(records, "records");
        this.highWatermark = highWatermark;
        this.logStartOffset = logStartOffset;
        this.logEndOffset = logEndOffset;
    }

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    /** The batches read: a segment file region or bytes in memory; {@link FetchedRecords#sendTo} sends either. */
    public FetchedRecords records() {
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
     * The batches' bytes, read from the file (for a file region) on the first call; each call returns its own view
     * (position 0, limit the size) of the same read-only memory.
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
