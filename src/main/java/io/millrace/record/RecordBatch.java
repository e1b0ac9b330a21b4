package io.millrace.record;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A view over exactly one record batch in Apache Kafka's RecordBatch v2 layout (magic 2), the unit Millrace stores,
 * replicates and serves as bytes. This class owns the format; {@link RecordBatchBuilder} writes it.
 *
 * <h2>Batch layout</h2>
 * All integers are big-endian; offsets are from the start of the batch.
 * <pre>
 * offset size  field
 *      0    8  baseOffset            int64   offset of the first record; assigned by the broker, outside the CRC
 *      8    4  batchLength           int32   bytes after this field (whole batch = 12 + batchLength)
 *     12    4  partitionLeaderEpoch  int32   epoch of the leader that appended it (-1 unknown), outside the CRC
 *     16    1  magic                 int8    always 2
 *     17    4  crc                   uint32  CRC32C of bytes 21 .. end (attributes through the last record)
 *     21    2  attributes            int16   bits 0-2 compression id ({@link CompressionType})
 *                                            bit 3 timestamp type (0 create time, 1 log append time)
 *                                            bit 4 transactional, bit 5 control batch,
 *                                            bit 6 delete horizon set (base timestamp is then the horizon)
 *     23    4  lastOffsetDelta       int32   last record's offset minus baseOffset
 *     27    8  baseTimestamp         int64   timestamp of the first record; record timestamps are deltas from it
 *     35    8  maxTimestamp          int64   largest record timestamp, or the log append time
 *     43    8  producerId            int64   -1 when the producer is not idempotent
 *     51    2  producerEpoch         int16   -1 when none
 *     53    4  baseSequence          int32   sequence of the first record, -1 when none
 *     57    4  recordCount           int32   number of records that follow
 *     61    .  records                       recordCount records, gzip-compressed as one stream if the codec says so
 * </pre>
 * An empty batch is therefore {@value #HEADER_SIZE} bytes. The CRC starts at the attributes: base offset, length,
 * leader epoch and magic lie outside it, so the broker assigns offsets and epochs in place without recomputing it
 * (the length and magic are checked by {@link #wrap} instead). Changing the timestamp type or max timestamp
 * ({@link #setLogAppendTime}) does require a new CRC, which is still written in place.
 *
 * <h2>Record layout</h2>
 * Each record inside the (decompressed) records section:
 * <pre>
 * length          varint   bytes of the rest of this record
 * attributes      int8     unused, 0
 * timestampDelta  varlong  timestamp minus the batch's baseTimestamp
 * offsetDelta     varint   offset minus the batch's baseOffset
 * keyLength       varint   -1 for a null key
 * key             bytes
 * valueLength     varint   -1 for a null value
 * value           bytes
 * headerCount     varint
 * headers         headerCount times:
 *   keyLength     varint   (never null)
 *   key           bytes    UTF-8
 *   valueLength   varint   -1 for a null value
 *   value         bytes
 * </pre>
 * Varints are zig-zag encoded as in {@link Varints}.
 *
 * <p>Accessors read the header fields in place, without validating the CRC: call {@link #ensureValid()} on bytes
 * that came from the network or a disk before trusting them. Setters write through to the wrapped buffer (and throw
 * {@link java.nio.ReadOnlyBufferException} if it is read-only).
 *
 * <p>Not thread-safe: the view holds no state of its own, but setters mutate the shared buffer.
 */
public final class RecordBatch {

    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int LENGTH_OFFSET = 8;
    public static final int PARTITION_LEADER_EPOCH_OFFSET = 12;
    public static final int MAGIC_OFFSET = 16;
    public static final int CRC_OFFSET = 17;
    public static final int ATTRIBUTES_OFFSET = 21;
    public static final int LAST_OFFSET_DELTA_OFFSET = 23;
    public static final int BASE_TIMESTAMP_OFFSET = 27;
    public static final int MAX_TIMESTAMP_OFFSET = 35;
    public static final int PRODUCER_ID_OFFSET = 43;
    public static final int PRODUCER_EPOCH_OFFSET = 51;
    public static final int BASE_SEQUENCE_OFFSET = 53;
    public static final int RECORD_COUNT_OFFSET = 57;
    public static final int RECORDS_OFFSET = 61;

    /** Bytes before the batch length counts: base offset and length. */
    public static final int LOG_OVERHEAD = 12;
    /** Size of a batch with no records. */
    public static final int HEADER_SIZE = 61;
    public static final byte MAGIC = 2;

    /** Producer id, epoch and sequence of a batch that has no idempotent producer. */
    public static final long NO_PRODUCER_ID = -1L;
    public static final short NO_PRODUCER_EPOCH = -1;
    public static final int NO_SEQUENCE = -1;
    public static final int NO_PARTITION_LEADER_EPOCH = -1;

    /**
     * The default cap on the decompressed size of a batch's records for {@link #records()}, so that a small hostile
     * gzip stream cannot exhaust the heap.
     */
    public static final int DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

    static final int COMPRESSION_CODEC_MASK = 0x07;
    static final int TIMESTAMP_TYPE_MASK = 0x08;
    static final int TRANSACTIONAL_FLAG_MASK = 0x10;
    static final int CONTROL_FLAG_MASK = 0x20;

    private final ByteBuffer buffer;

    private RecordBatch(ByteBuffer buffer) {
        this.buffer = buffer;
    }

    /**
     * Wraps the bytes from {@code buffer}'s position to its limit, which must be exactly one batch. The view shares
     * the bytes (setters write through) but not the position: {@code buffer}'s position and limit are untouched.
     *
     * @throws CorruptRecordException if there are fewer than {@value #HEADER_SIZE} bytes, the magic is not 2, or the
     *                                batch length field does not match the number of bytes
     */
    public static RecordBatch wrap(ByteBuffer buffer) {
        ByteBuffer slice = buffer.slice().order(ByteOrder.BIG_ENDIAN);
        int size = slice.remaining();
        if (size < HEADER_SIZE) {
            throw new CorruptRecordException("Record batch is " + size + " bytes, smaller than the "
                    + HEADER_SIZE + "-byte batch header");
        }
        byte magic = slice.get(MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw new CorruptRecordException("Record batch has magic " + magic + "; only magic " + MAGIC
                    + " (Kafka RecordBatch v2) is supported");
        }
        long declared = LOG_OVERHEAD + (long) slice.getInt(LENGTH_OFFSET);
        if (declared != size) {
            throw new CorruptRecordException("Record batch length field says " + declared
                    + " bytes but the buffer holds " + size);
        }
        return new RecordBatch(slice);
    }

    /** A duplicate of the batch's bytes, position 0 and limit {@link #sizeInBytes()}; it shares the content. */
    public ByteBuffer buffer() {
        return buffer.duplicate().clear();
    }

    /** The whole batch in bytes, header included. */
    public int sizeInBytes() {
        return buffer.limit();
    }

    public long baseOffset() {
        return buffer.getLong(BASE_OFFSET_OFFSET);
    }

    public int lastOffsetDelta() {
        return buffer.getInt(LAST_OFFSET_DELTA_OFFSET);
    }

    /** Offset of the last record: the next batch starts at {@code lastOffset() + 1}. */
    public long lastOffset() {
        return baseOffset() + lastOffsetDelta();
    }

    /** The record count stored in the header. */
    public int recordCount() {
        return buffer.getInt(RECORD_COUNT_OFFSET);
    }

    public int partitionLeaderEpoch() {
        return buffer.getInt(PARTITION_LEADER_EPOCH_OFFSET);
    }

    public byte magic() {
        return buffer.get(MAGIC_OFFSET);
    }

    /** The CRC stored in the header, as an unsigned 32-bit value. */
    public long checksum() {
        return Integer.toUnsignedLong(buffer.getInt(CRC_OFFSET));
    }

    /** The CRC32C of the bytes the stored checksum covers (attributes to the end). */
    public long computeChecksum() {
        CRC32C crc = new CRC32C();
        crc.update(buffer.duplicate().position(ATTRIBUTES_OFFSET));
        return crc.getValue();
    }

    /** Whether the stored checksum matches the bytes. */
    public boolean isValid() {
        return checksum() == computeChecksum();
    }

    /**
     * Checks the stored checksum against the bytes.
     *
     * @throws CorruptRecordException naming the batch and both checksums if they differ
     */
    public void ensureValid() {
        long stored = checksum();
        long computed = computeChecksum();
        if (stored != computed) {
            throw new CorruptRecordException("Record batch at base offset " + baseOffset() + " (" + sizeInBytes()
                    + " bytes) is corrupt: stored CRC32C " + stored + ", computed " + computed);
        }
    }

    private short attributes() {
        return buffer.getShort(ATTRIBUTES_OFFSET);
    }

    /**
     * The codec of the records section.
     *
     * @throws MillraceException with {@link ErrorCode#UNSUPPORTED_COMPRESSION} if the id is not one Kafka defines
     */
    public CompressionType compressionType() {
        return CompressionType.forId(attributes() & COMPRESSION_CODEC_MASK);
    }

    public TimestampType timestampType() {
        return (attributes() & TIMESTAMP_TYPE_MASK) == 0 ? TimestampType.CREATE_TIME : TimestampType.LOG_APPEND_TIME;
    }

    /** Whether this is a control batch (transaction markers and the like) rather than user records. */
    public boolean isControl() {
        return (attributes() & CONTROL_FLAG_MASK) != 0;
    }

    public boolean isTransactional() {
        return (attributes() & TRANSACTIONAL_FLAG_MASK) != 0;
    }

    /** The base timestamp: the first record's timestamp (or the delete horizon if a compactor set attribute bit 6). */
    public long firstTimestamp() {
        return buffer.getLong(BASE_TIMESTAMP_OFFSET);
    }

    /** The largest record timestamp, or the log append time for {@link TimestampType#LOG_APPEND_TIME}. */
    public long maxTimestamp() {
        return buffer.getLong(MAX_TIMESTAMP_OFFSET);
    }

    public long producerId() {
        return buffer.getLong(PRODUCER_ID_OFFSET);
    }

    public short producerEpoch() {
        return buffer.getShort(PRODUCER_EPOCH_OFFSET);
    }

    public int baseSequence() {
        return buffer.getInt(BASE_SEQUENCE_OFFSET);
    }

    /**
     * The sequence of the last record, or {@value #NO_SEQUENCE} if the batch has none. Sequences wrap from
     * {@link Integer#MAX_VALUE} to 0, as in Kafka.
     */
    public int lastSequence() {
        int base = baseSequence();
        if (base == NO_SEQUENCE) {
            return NO_SEQUENCE;
        }
        int delta = lastOffsetDelta();
        if (base > Integer.MAX_VALUE - delta) {
            return delta - (Integer.MAX_VALUE - base) - 1;
        }
        return base + delta;
    }

    /** Sets the base offset in place. The field is outside the CRC, so the batch stays valid. */
    public void setBaseOffset(long baseOffset) {
        buffer.putLong(BASE_OFFSET_OFFSET, baseOffset);
    }

    /** Sets the partition leader epoch in place. The field is outside the CRC, so the batch stays valid. */
    public void setPartitionLeaderEpoch(int epoch) {
        buffer.putInt(PARTITION_LEADER_EPOCH_OFFSET, epoch);
    }

    /**
     * Rewrites the idempotent-producer fields in place and recomputes the CRC: a producer that had to start a new
     * producer id re-stamps the batches it had not yet sent, without re-encoding their records.
     */
    public void setProducerState(long producerId, short producerEpoch, int baseSequence) {
        buffer.putLong(PRODUCER_ID_OFFSET, producerId);
        buffer.putShort(PRODUCER_EPOCH_OFFSET, producerEpoch);
        buffer.putInt(BASE_SEQUENCE_OFFSET, baseSequence);
        buffer.putInt(CRC_OFFSET, (int) computeChecksum());
    }

    /**
     * Stamps the batch with the broker's append time, in place, as Kafka's broker does for topics with
     * {@code message.timestamp.type=LogAppendTime}: sets the timestamp-type attribute bit, writes {@code timestamp}
     * as the max timestamp and recomputes the CRC. Records are not rewritten; readers give every record this
     * timestamp. A batch that already carries exactly this stamp is left untouched.
     */
    public void setLogAppendTime(long timestamp) {
        short attributes = attributes();
        if ((attributes & TIMESTAMP_TYPE_MASK) != 0 && maxTimestamp() == timestamp) {
            return;
        }
        buffer.putShort(ATTRIBUTES_OFFSET, (short) (attributes | TIMESTAMP_TYPE_MASK));
        buffer.putLong(MAX_TIMESTAMP_OFFSET, timestamp);
        buffer.putInt(CRC_OFFSET, (int) computeChecksum());
    }

    /**
     * Decodes all records, decompressing if needed, with at most {@value #DEFAULT_MAX_DECOMPRESSED_BYTES}
     * decompressed bytes. See {@link #records(int)}.
     */
    public List<Record> records() {
        return records(DEFAULT_MAX_DECOMPRESSED_BYTES);
    }

    /**
     * Decodes all records, decompressing if needed. Offsets and timestamps are absolute; for
     * {@link TimestampType#LOG_APPEND_TIME} every record's timestamp is {@link #maxTimestamp()}. The CRC is not checked
     * here (see {@link #ensureValid()}), but every length is, so hostile bytes fail cleanly.
     *
     * @param maxDecompressedBytes the most bytes a compressed records section may expand to
     * @throws CorruptRecordException if the records are malformed, truncated, followed by extra bytes, or fewer or
     *                                more than {@link #recordCount()}
     * @throws MillraceException      with {@link ErrorCode#UNSUPPORTED_COMPRESSION} for a codec whose library is not
     *                                on the class path ({@link CompressionType#isSupported()}), or
     *                                {@link ErrorCode#RECORD_TOO_LARGE} if decompression exceeds the cap
     */
    public List<Record> records(int maxDecompressedBytes) {
        if (maxDecompressedBytes < 0) {
            throw new IllegalArgumentException("maxDecompressedBytes must be >= 0, was " + maxDecompressedBytes);
        }
        CompressionType compression = compressionType();
        compression.ensureSupported();
        int count = recordCount();
        if (count < 0) {
            throw new CorruptRecordException("Record batch at base offset " + baseOffset() + " has a negative record "
                    + "count " + count);
        }
        ByteBuffer section = buffer.duplicate().position(RECORDS_OFFSET);
        if (compression != CompressionType.NONE) {
            section = ByteBuffer.wrap(decompress(compression, section, maxDecompressedBytes));
        }
        boolean logAppendTime = timestampType() == TimestampType.LOG_APPEND_TIME;
        try {
            return RecordCodec.readAll(section, count, baseOffset(), firstTimestamp(), logAppendTime, maxTimestamp());
        } catch (CorruptRecordException e) {
            throw new CorruptRecordException("Record batch at base offset " + baseOffset() + " is malformed: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Checks that the records inside the batch are well formed (what the CRC cannot tell: a producer may checksum
     * garbage), decompressing into at most {@code maxDecompressedBytes}; uncompressed records are walked without
     * being copied. A broker runs this before accepting a batch, so readers never meet records they cannot decode.
     *
     * @return the range of the records' timestamps as readers see them: for {@link TimestampType#LOG_APPEND_TIME},
     *         {@link #maxTimestamp()} alone
     * @throws CorruptRecordException if a record is malformed, offsets inside the batch are not 0, 1, 2, …, the
     *                                count disagrees with the header or is 0, or a timestamp overflows
     */
    public TimestampRange validateRecords(int maxDecompressedBytes) {
        CompressionType compression = compressionType();
        compression.ensureSupported();
        int count = recordCount();
        if (count < 0) {
            // With an empty records section a negative count would pass the walk below, and no reader could decode it.
            throw new CorruptRecordException("Record batch at base offset " + baseOffset() + " has a negative record "
                    + "count " + count);
        }
        ByteBuffer section = buffer.duplicate().position(RECORDS_OFFSET);
        if (compression != CompressionType.NONE) {
            section = ByteBuffer.wrap(decompress(compression, section, maxDecompressedBytes));
        }
        try {
            TimestampRange recordTimestamps = RecordCodec.validateAll(section, count, firstTimestamp());
            return timestampType() == TimestampType.LOG_APPEND_TIME
                    ? new TimestampRange(maxTimestamp(), maxTimestamp()) : recordTimestamps;
        } catch (CorruptRecordException e) {
            throw new CorruptRecordException("Record batch at base offset " + baseOffset() + " is malformed: "
                    + e.getMessage(), e);
        }
    }

    private byte[] decompress(CompressionType compression, ByteBuffer compressed, int maxBytes) {
        // Sized for typical ratios but never from a length the bytes merely claim.
        int initialCapacity = (int) Math.min(maxBytes, 4L * compressed.remaining() + 64);
        ByteArrayOutputStream out = new ByteArrayOutputStream(initialCapacity);
        byte[] chunk = new byte[8 * 1024];
        try (InputStream in = compression.wrapForInput(compressed, maxBytes)) {
            long total = 0;
            int n;
            while ((n = in.read(chunk)) != -1) {
                total += n;
                if (total > maxBytes) {
                    throw tooLarge(compression, maxBytes, null);
                }
                out.write(chunk, 0, n);
            }
        } catch (DecompressionLimitException e) {
            throw tooLarge(compression, maxBytes, e);
        } catch (IOException | BufferUnderflowException e) {
            throw new CorruptRecordException("Cannot decompress the " + compression + " records of the batch at base "
                    + "offset " + baseOffset() + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    private MillraceException tooLarge(CompressionType compression, int maxBytes, Throwable cause) {
        return new MillraceException(ErrorCode.RECORD_TOO_LARGE, "Records of the " + compression + " batch at base "
                + "offset " + baseOffset() + " decompress to more than " + maxBytes + " bytes", cause);
    }

    @Override
    public String toString() {
        return "RecordBatch(baseOffset=" + baseOffset() + ", lastOffset=" + lastOffset() + ", recordCount="
                + recordCount() + ", sizeInBytes=" + sizeInBytes() + ", attributes=0x"
                + Integer.toHexString(attributes() & 0xffff) + ", producerId=" + producerId() + ")";
    }
}
