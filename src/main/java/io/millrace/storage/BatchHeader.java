package io.millrace.storage;

import io.millrace.record.RecordBatch;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The fixed-size header of a batch as it lies in a segment file, read without touching its records. Lets the log
 * walk from batch to batch (to find an offset, a timestamp or the end of the log) at the cost of one small read each.
 *
 * @param position   byte position of the batch in its file
 * @param baseOffset offset of its first record
 * @param sizeInBytes whole batch, {@link RecordBatch#LOG_OVERHEAD} included
 * @param magic      format version byte
 * @param lastOffset offset of its last record
 * @param maxTimestamp largest record timestamp (or the log-append time)
 * @param producerId   idempotent producer id, -1 for none
 * @param producerEpoch its epoch
 * @param baseSequence sequence number of the first record, -1 for none
 * @param partitionLeaderEpoch epoch of the leader that appended it, -1 if none was stamped
 */
record BatchHeader(long position, long baseOffset, int sizeInBytes, byte magic, long lastOffset, long maxTimestamp,
                   long producerId, short producerEpoch, int baseSequence, int partitionLeaderEpoch) {

    boolean hasProducer() {
        return producerId >= 0;
    }

    /** Sequence number of the last record. */
    int lastSequence() {
        long last = (long) baseSequence + (lastOffset - baseOffset);
        return (int) (last > Integer.MAX_VALUE ? last - Integer.MAX_VALUE - 1 : last);
    }


    long nextPosition() {
        return position + sizeInBytes;
    }

    long nextOffset() {
        return lastOffset + 1;
    }

    /**
     * Reads the header at {@code position}. The caller checks plausibility with {@link #isPlausible}; this method only
     * refuses to read past {@code limit}.
     *
     * @param scratch a buffer of at least {@link RecordBatch#HEADER_SIZE} bytes, reused across calls
     * @throws EOFException if fewer than a header's bytes remain before {@code limit}
     */
    static BatchHeader read(FileChannel channel, long position, long limit, ByteBuffer scratch) throws IOException {
        if (limit - position < RecordBatch.HEADER_SIZE) {
            throw new EOFException("Only " + (limit - position) + " bytes left at position " + position);
        }
        scratch.clear().limit(RecordBatch.HEADER_SIZE);
        readFully(channel, scratch, position);
        return parse(position, scratch);
    }

    /** The header of the batch at {@code position}, from the first {@link RecordBatch#HEADER_SIZE} bytes of a buffer. */
    static BatchHeader parse(long position, ByteBuffer bytes) {
        long baseOffset = bytes.getLong(RecordBatch.BASE_OFFSET_OFFSET);
        int length = bytes.getInt(RecordBatch.LENGTH_OFFSET);
        byte magic = bytes.get(RecordBatch.MAGIC_OFFSET);
        int lastOffsetDelta = bytes.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET);
        long maxTimestamp = bytes.getLong(RecordBatch.MAX_TIMESTAMP_OFFSET);
        return new BatchHeader(position, baseOffset, RecordBatch.LOG_OVERHEAD + length, magic,
                baseOffset + lastOffsetDelta, maxTimestamp, bytes.getLong(RecordBatch.PRODUCER_ID_OFFSET),
                bytes.getShort(RecordBatch.PRODUCER_EPOCH_OFFSET), bytes.getInt(RecordBatch.BASE_SEQUENCE_OFFSET),
                bytes.getInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET));
    }

    /** Whether the header can describe a real batch ending at or before {@code limit}, continuing at expectedOffset. */
    boolean isPlausible(long expectedOffset, long limit) {
        return baseOffset == expectedOffset && isWellFormed(limit);
    }

    /** Whether the header can describe a real batch ending at or before {@code limit}, whatever offset it starts at. */
    boolean isWellFormed(long limit) {
        return magic == RecordBatch.MAGIC
                && sizeInBytes >= RecordBatch.HEADER_SIZE
                && position + sizeInBytes <= limit
                && lastOffset >= baseOffset;
    }

    static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new EOFException("Unexpected end of file at position " + at);
            }
            at += n;
        }
        buffer.flip();
    }
}
