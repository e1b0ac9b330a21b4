package io.millrace.record;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The codec of a batch's records section, stored in bits 0-2 of the batch attributes with Kafka's ids.
 *
 * <p>Only {@link #NONE} and {@link #GZIP} can be decoded or encoded here (the JDK has no Snappy, LZ4 or Zstandard);
 * batches using the others can still be wrapped, validated, stored and served as bytes, but {@link
 * RecordBatch#records()} and {@link RecordBatchBuilder} refuse them with {@link ErrorCode#UNSUPPORTED_COMPRESSION}.
 */
public enum CompressionType {
    NONE(0),
    GZIP(1),
    SNAPPY(2),
    LZ4(3),
    ZSTD(4);

    private static final CompressionType[] BY_ID = values();

    // GZIPOutputStream's default 512-byte buffer makes many tiny deflate calls; Kafka uses 8 KiB as well.
    private static final int GZIP_BUFFER_SIZE = 8 * 1024;

    private final int id;

    CompressionType(int id) {
        this.id = id;
    }

    /** The id stored in the batch attributes. */
    public int id() {
        return id;
    }

    /** Whether this broker can decode and encode the records of a batch with this codec. */
    public boolean isSupported() {
        return this == NONE || this == GZIP;
    }

    /**
     * The codec with the given attribute id.
     *
     * @throws MillraceException with {@link ErrorCode#UNSUPPORTED_COMPRESSION} for an id no codec has (5-7)
     */
    public static CompressionType forId(int id) {
        if (id < 0 || id >= BY_ID.length) {
            throw new MillraceException(ErrorCode.UNSUPPORTED_COMPRESSION, "Unknown compression type id " + id);
        }
        return BY_ID[id];
    }

    /** Throws {@link ErrorCode#UNSUPPORTED_COMPRESSION} unless {@link #isSupported()}. */
    void ensureSupported() {
        if (!isSupported()) {
            throw new MillraceException(ErrorCode.UNSUPPORTED_COMPRESSION, "Compression " + this
                    + " is not supported by this broker (supported: NONE, GZIP); use one of those in the producer");
        }
    }

    OutputStream wrapForOutput(OutputStream out) throws IOException {
        ensureSupported();
        return this == GZIP ? new GZIPOutputStream(out, GZIP_BUFFER_SIZE) : out;
    }

    InputStream wrapForInput(InputStream in) throws IOException {
        ensureSupported();
        return this == GZIP ? new GZIPInputStream(in, GZIP_BUFFER_SIZE) : in;
    }
}
