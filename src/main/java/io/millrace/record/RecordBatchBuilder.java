package io.millrace.record;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Builds one {@link RecordBatch} from records appended in offset order: record {@code i} gets offset
 * {@code baseOffset + i}. Records are encoded as they are appended; {@link #build()} compresses them if asked, writes
 * the header and the CRC.
 *
 * <p>For {@link TimestampType#LOG_APPEND_TIME} the builder only sets the attribute bit and takes the largest appended
 * timestamp as the max timestamp; the broker stamps its own clock with {@link RecordBatch#setLogAppendTime}.
 *
 * <p>Not thread-safe. {@link #build()} does not consume the builder: more records may be appended and the batch built
 * again.
 */
public final class RecordBatchBuilder {

    private static final long NO_TIMESTAMP = -1L;
    private static final int MAX_BATCH_SIZE = Integer.MAX_VALUE - 64;

    private final CompressionType compression;
    private final TimestampType timestampType;
    private final long baseOffset;
    private long producerId = RecordBatch.NO_PRODUCER_ID;
    private short producerEpoch = RecordBatch.NO_PRODUCER_EPOCH;
    private int baseSequence = RecordBatch.NO_SEQUENCE;
    private int partitionLeaderEpoch = RecordBatch.NO_PARTITION_LEADER_EPOCH;

    /** Encoded, uncompressed records from position 0 to the position. */
    private ByteBuffer records;
    private int recordCount;
    private long firstTimestamp = NO_TIMESTAMP;
    private long maxTimestamp = NO_TIMESTAMP;

    /**
     * @throws MillraceException with {@link ErrorCode#UNSUPPORTED_COMPRESSION} for a codec whose library is not on the
     *                           class path ({@link CompressionType#isSupported()})
     */
    public RecordBatchBuilder(CompressionType compression, TimestampType timestampType, long baseOffset) {
        this(compression, timestampType, baseOffset, 256);
    }

    /**
     * @param expectedBytes the size the records are expected to reach, so that a batch filled to its target size
     *                      is not copied as it grows; more still fits
     * @throws MillraceException with {@link ErrorCode#UNSUPPORTED_COMPRESSION} for a codec whose library is not on the
     *                           class path ({@link CompressionType#isSupported()})
     */
    public RecordBatchBuilder(CompressionType compression, TimestampType timestampType, long baseOffset,
                              int expectedBytes) {
        this.compression = Objects.requireNonNull(compression, "compression");
        this.timestampType = Objects.requireNonNull(timestampType, "timestampType");
        this.baseOffset = baseOffset;
        compression.ensureSupported();
        this.records = ByteBuffer.allocate(Math.max(64, Math.min(expectedBytes, 1 << 20)));
    }

    /** Marks the batch as written by an idempotent producer. Defaults: -1, -1, -1 (no producer). */
    public RecordBatchBuilder producer(long producerId, short producerEpoch, int baseSequence) {
        this.producerId = producerId;
        this.producerEpoch = producerEpoch;
        this.baseSequence = baseSequence;
        return this;
    }

    /** The leader epoch to stamp; default -1. The broker usually overwrites it with the current epoch on append. */
    public RecordBatchBuilder partitionLeaderEpoch(int epoch) {
        this.partitionLeaderEpoch = epoch;
        return this;
    }

    /** Appends a record without headers. */
    public RecordBatchBuilder append(long timestamp, byte[] key, byte[] value) {
        return append(timestamp, key, value, List.of());
    }

    /**
     * Appends a record at the next offset.
     *
     * @param timestamp milliseconds since the epoch, or -1 for none
     * @param key       may be null
     * @param value     may be null (a tombstone)
     * @param headers   not null; header values may be null
     * @throws IllegalArgumentException for a negative timestamp other than -1
     * @throws MillraceException        with {@link ErrorCode#RECORD_TOO_LARGE} if the batch would exceed 2 GiB
     */
    public RecordBatchBuilder append(long timestamp, byte[] key, byte[] value, List<Header> headers) {
        Objects.requireNonNull(headers, "headers");
        if (timestamp < 0 && timestamp != NO_TIMESTAMP) {
            throw new IllegalArgumentException("Invalid negative timestamp " + timestamp);
        }
        if (recordCount == Integer.MAX_VALUE) {
            throw new MillraceException(ErrorCode.RECORD_TOO_LARGE, "A batch holds at most " + Integer.MAX_VALUE
                    + " records");
        }
        if (recordCount == 0) {
            firstTimestamp = timestamp;
        }
        byte[][] headerKeys = new byte[headers.size()][];
        for (int i = 0; i < headerKeys.length; i++) {
            headerKeys[i] = headers.get(i).key().getBytes(StandardCharsets.UTF_8);
        }
        long timestampDelta = timestamp - firstTimestamp;
        int offsetDelta = recordCount;
        int bodySize;
        try {
            bodySize = RecordCodec.sizeOfBody(timestampDelta, offsetDelta, key, value, headerKeys, headers);
        } catch (IllegalArgumentException e) {
            throw new MillraceException(ErrorCode.RECORD_TOO_LARGE, e.getMessage(), e);
        }
        int recordSize = RecordCodec.sizeOfRecord(bodySize);
        ensureRoom(recordSize);
        RecordCodec.write(records, bodySize, timestampDelta, offsetDelta, key, value, headerKeys, headers);
        recordCount++;
        maxTimestamp = Math.max(maxTimestamp, timestamp);
        return this;
    }

    private void ensureRoom(int recordSize) {
        long needed = (long) RecordBatch.HEADER_SIZE + records.position() + recordSize;
        if (needed > MAX_BATCH_SIZE) {
            throw new MillraceException(ErrorCode.RECORD_TOO_LARGE, "A batch of " + needed + " bytes is too large");
        }
        if (records.remaining() < recordSize) {
            int capacity = (int) Math.min(MAX_BATCH_SIZE,
                    Math.max((long) records.capacity() * 2, (long) records.position() + recordSize));
            ByteBuffer grown = ByteBuffer.allocate(capacity);
            grown.put(records.flip());
            records = grown;
        }
    }

    /**
     * The size of the batch if built now. Exact without compression; with a codec it is the uncompressed size, which
     * overestimates compressible data, so it is safe for deciding when a batch is full.
     */
    public int estimatedSizeInBytes() {
        return RecordBatch.HEADER_SIZE + records.position();
    }

    /** The number of records appended so far. */
    public int recordCount() {
        return recordCount;
    }

    /**
     * Writes the batch into a new heap buffer.
     *
     * @throws IllegalStateException if no record was appended
     */
    public RecordBatch build() {
        if (recordCount == 0) {
            throw new IllegalStateException("A record batch needs at least one record");
        }
        ByteBuffer batch = compression == CompressionType.NONE ? uncompressedBatch() : compressedBatch();
        writeHeader(batch);
        return RecordBatch.wrap(batch);
    }

    private ByteBuffer uncompressedBatch() {
        ByteBuffer batch = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + records.position());
        batch.position(RecordBatch.RECORDS_OFFSET);
        batch.put(records.duplicate().flip());
        return batch.flip();
    }

    private ByteBuffer compressedBatch() {
        Output out = new Output(RecordBatch.HEADER_SIZE + records.position() / 2);
        out.write(new byte[RecordBatch.HEADER_SIZE], 0, RecordBatch.HEADER_SIZE);
        try (OutputStream compressing = compression.wrapForOutput(out)) {
            compressing.write(records.array(), records.arrayOffset(), records.position());
        } catch (IOException e) {
            // Only in-memory streams are involved, so this cannot happen short of a codec library bug.
            throw new UncheckedIOException(e);
        }
        return out.toByteBuffer();
    }

    private void writeHeader(ByteBuffer batch) {
        int attributes = compression.id();
        if (timestampType == TimestampType.LOG_APPEND_TIME) {
            attributes |= RecordBatch.TIMESTAMP_TYPE_MASK;
        }
        batch.putLong(RecordBatch.BASE_OFFSET_OFFSET, baseOffset);
        batch.putInt(RecordBatch.LENGTH_OFFSET, batch.limit() - RecordBatch.LOG_OVERHEAD);
        batch.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
        batch.put(RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC);
        batch.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) attributes);
        batch.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, recordCount - 1);
        batch.putLong(RecordBatch.BASE_TIMESTAMP_OFFSET, firstTimestamp);
        batch.putLong(RecordBatch.MAX_TIMESTAMP_OFFSET, maxTimestamp);
        batch.putLong(RecordBatch.PRODUCER_ID_OFFSET, producerId);
        batch.putShort(RecordBatch.PRODUCER_EPOCH_OFFSET, producerEpoch);
        batch.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, baseSequence);
        batch.putInt(RecordBatch.RECORD_COUNT_OFFSET, recordCount);
        CRC32C crc = new CRC32C();
        crc.update(batch.duplicate().position(RecordBatch.ATTRIBUTES_OFFSET));
        batch.putInt(RecordBatch.CRC_OFFSET, (int) crc.getValue());
    }

    /** A byte array stream that hands over its array without the copy {@code toByteArray()} makes. */
    private static final class Output extends ByteArrayOutputStream {
        Output(int size) {
            super(size);
        }

        ByteBuffer toByteBuffer() {
            return ByteBuffer.wrap(buf, 0, count).slice();
        }
    }
}
