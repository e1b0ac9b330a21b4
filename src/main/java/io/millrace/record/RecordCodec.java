package io.millrace.record;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes and decodes single records in the layout documented on {@link RecordBatch}. Decoding distrusts every
 * length: a length that is negative or larger than the bytes left is a {@link CorruptRecordException}, and no array
 * is sized from a declared count before the bytes to fill it are known to exist.
 */
final class RecordCodec {

    /** The smallest record: length varint plus attributes, two deltas, null key, null value and no headers. */
    static final int MIN_RECORD_SIZE = 7;

    /** The smallest header: a one-byte key length, an empty key and a one-byte value length. */
    private static final int MIN_HEADER_SIZE = 2;

    private RecordCodec() {
    }

    /** Size of a record body, not counting its own length varint. */
    static int sizeOfBody(long timestampDelta, int offsetDelta, byte[] key, byte[] value, byte[][] headerKeys,
            List<Header> headers) {
        long size = 1L + Varints.sizeOfVarlong(timestampDelta) + Varints.sizeOfVarint(offsetDelta)
                + sizeOfBytes(key) + sizeOfBytes(value) + Varints.sizeOfVarint(headers.size());
        for (int i = 0; i < headerKeys.length; i++) {
            size += sizeOfBytes(headerKeys[i]) + sizeOfBytes(headers.get(i).value());
        }
        if (size > Integer.MAX_VALUE - 5) {
            throw new IllegalArgumentException("Record of " + size + " bytes is too large to encode");
        }
        return (int) size;
    }

    /** Size of a whole record given its body size. */
    static int sizeOfRecord(int bodySize) {
        return Varints.sizeOfVarint(bodySize) + bodySize;
    }

    private static long sizeOfBytes(byte[] bytes) {
        return bytes == null ? 1 : Varints.sizeOfVarint(bytes.length) + (long) bytes.length;
    }

    /** Writes one record; {@code headerKeys} are the UTF-8 header keys, already encoded for sizing. */
    static void write(ByteBuffer out, int bodySize, long timestampDelta, int offsetDelta, byte[] key, byte[] value,
            byte[][] headerKeys, List<Header> headers) {
        Varints.writeVarint(bodySize, out);
        out.put((byte) 0);
        Varints.writeVarlong(timestampDelta, out);
        Varints.writeVarint(offsetDelta, out);
        writeBytes(out, key);
        writeBytes(out, value);
        Varints.writeVarint(headers.size(), out);
        for (int i = 0; i < headerKeys.length; i++) {
            writeBytes(out, headerKeys[i]);
            writeBytes(out, headers.get(i).value());
        }
    }

    private static void writeBytes(ByteBuffer out, byte[] bytes) {
        if (bytes == null) {
            Varints.writeVarint(-1, out);
        } else {
            Varints.writeVarint(bytes.length, out);
            out.put(bytes);
        }
    }

    /**
     * Decodes exactly {@code count} records filling {@code in} from its position to its limit.
     *
     * @param logAppendTime whether every record takes {@code maxTimestamp} instead of its own timestamp
     * @throws CorruptRecordException on any malformed, truncated, missing or extra data
     */
    static List<Record> readAll(ByteBuffer in, int count, long baseOffset, long baseTimestamp, boolean logAppendTime,
            long maxTimestamp) {
        List<Record> records = new ArrayList<>(Math.min(count, in.remaining() / MIN_RECORD_SIZE));
        for (int i = 0; i < count; i++) {
            if (!in.hasRemaining()) {
                throw new CorruptRecordException("The header declares " + count + " records but the data ends after "
                        + i);
            }
            records.add(read(in, i, baseOffset, baseTimestamp, logAppendTime, maxTimestamp));
        }
        if (in.hasRemaining()) {
            throw new CorruptRecordException(in.remaining() + " bytes follow the " + count
                    + " records the header declares");
        }
        return records;
    }

    private static Record read(ByteBuffer in, int index, long baseOffset, long baseTimestamp, boolean logAppendTime,
            long maxTimestamp) {
        try {
            int length = Varints.readVarint(in);
            if (length < MIN_RECORD_SIZE - 1 || length > in.remaining()) {
                throw new CorruptRecordException("Record " + index + " declares " + length + " bytes but "
                        + in.remaining() + " remain (minimum " + (MIN_RECORD_SIZE - 1) + ")");
            }
            ByteBuffer body = in.slice(in.position(), length);
            in.position(in.position() + length);

            body.get(); // record attributes: unused in v2
            long timestampDelta = Varints.readVarlong(body);
            int offsetDelta = Varints.readVarint(body);
            byte[] key = readBytes(body, index, "key");
            byte[] value = readBytes(body, index, "value");
            int headerCount = Varints.readVarint(body);
            if (headerCount < 0 || headerCount > body.remaining() / MIN_HEADER_SIZE) {
                throw new CorruptRecordException("Record " + index + " declares " + headerCount + " headers in "
                        + body.remaining() + " bytes");
            }
            List<Header> headers = new ArrayList<>(headerCount);
            for (int h = 0; h < headerCount; h++) {
                byte[] headerKey = readBytes(body, index, "header key");
                if (headerKey == null) {
                    throw new CorruptRecordException("Record " + index + " has a header with a null key");
                }
                headers.add(new Header(new String(headerKey, StandardCharsets.UTF_8),
                        readBytes(body, index, "header value")));
            }
            if (body.hasRemaining()) {
                throw new CorruptRecordException("Record " + index + " declares " + length + " bytes but its fields "
                        + "end " + body.remaining() + " bytes earlier");
            }
            long timestamp = logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta;
            return new Record(baseOffset + offsetDelta, timestamp, key, value, headers);
        } catch (BufferUnderflowException e) {
            throw new CorruptRecordException("Record " + index + " is truncated", e);
        } catch (IllegalArgumentException e) {
            throw new CorruptRecordException("Record " + index + " has a malformed varint: " + e.getMessage(), e);
        }
    }

    /**
     * Checks the structure of {@code count} (at least 1) records without copying any of them: every length inside
     * its record, offset deltas 0, 1, 2, … as a producer writes them, nothing left over, timestamps that fit in an
     * int64. Throws CorruptRecordException.
     *
     * @return the range of the records' timestamps ({@code baseTimestamp} plus each delta)
     */
    static TimestampRange validateAll(ByteBuffer in, int count, long baseTimestamp) {
        long minDelta = Long.MAX_VALUE;
        long maxDelta = Long.MIN_VALUE;
        for (int i = 0; i < count; i++) {
            if (!in.hasRemaining()) {
                throw new CorruptRecordException("The header declares " + count + " records but the data ends after "
                        + i);
            }
            try {
                int length = Varints.readVarint(in);
                if (length < MIN_RECORD_SIZE - 1 || length > in.remaining()) {
                    throw new CorruptRecordException("Record " + i + " declares " + length + " bytes but "
                            + in.remaining() + " remain");
                }
                ByteBuffer body = in.slice(in.position(), length);
                in.position(in.position() + length);
                body.get();
                long timestampDelta = Varints.readVarlong(body);
                minDelta = Math.min(minDelta, timestampDelta);
                maxDelta = Math.max(maxDelta, timestampDelta);
                int offsetDelta = Varints.readVarint(body);
                if (offsetDelta != i) {
                    throw new CorruptRecordException("Record " + i + " has offset delta " + offsetDelta);
                }
                skipBytes(body, i, "key", true);
                skipBytes(body, i, "value", true);
                int headerCount = Varints.readVarint(body);
                if (headerCount < 0 || headerCount > body.remaining() / MIN_HEADER_SIZE) {
                    throw new CorruptRecordException("Record " + i + " declares " + headerCount + " headers in "
                            + body.remaining() + " bytes");
                }
                for (int h = 0; h < headerCount; h++) {
                    skipBytes(body, i, "header key", false);
                    skipBytes(body, i, "header value", true);
                }
                if (body.hasRemaining()) {
                    throw new CorruptRecordException("Record " + i + "'s fields end " + body.remaining()
                            + " bytes before its declared length");
                }
            } catch (BufferUnderflowException e) {
                throw new CorruptRecordException("Record " + i + " is truncated", e);
            } catch (IllegalArgumentException e) {
                throw new CorruptRecordException("Record " + i + " has a malformed varint: " + e.getMessage(), e);
            }
        }
        if (in.hasRemaining()) {
            throw new CorruptRecordException(in.remaining() + " bytes follow the " + count
                    + " records the header declares");
        }
        if (count < 1) {
            throw new CorruptRecordException("A batch must hold at least one record");
        }
        try {
            return new TimestampRange(Math.addExact(baseTimestamp, minDelta), Math.addExact(baseTimestamp, maxDelta));
        } catch (ArithmeticException e) {
            throw new CorruptRecordException("A record's timestamp delta takes it outside the int64 range", e);
        }
    }

    private static void skipBytes(ByteBuffer body, int index, String what, boolean nullable) {
        int length = Varints.readVarint(body);
        if (length == -1 && nullable) {
            return;
        }
        if (length < 0 || length > body.remaining()) {
            throw new CorruptRecordException("Record " + index + " declares a " + what + " of " + length + " bytes but "
                    + body.remaining() + " remain");
        }
        body.position(body.position() + length);
    }

    private static byte[] readBytes(ByteBuffer body, int index, String what) {
        int length = Varints.readVarint(body);
        if (length == -1) {
            return null;
        }
        if (length < 0 || length > body.remaining()) {
            throw new CorruptRecordException("Record " + index + " declares a " + what + " of " + length + " bytes but "
                    + body.remaining() + " remain");
        }
        byte[] bytes = new byte[length];
        body.get(bytes);
        return bytes;
    }
}
