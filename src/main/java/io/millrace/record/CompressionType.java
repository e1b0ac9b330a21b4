package io.millrace.record;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The codec of a batch's records section, stored in bits 0-2 of the batch attributes with Kafka's ids. Ids 5-7 are
 * no codec and are refused by {@link #forId}.
 *
 * <p>Each codec reads and writes the bytes Apache Kafka's 4.1 clients do, so a batch compressed by a Kafka producer is
 * stored and served as it came and decoded wherever records are needed, and a batch built here reads in Kafka:
 * <ul>
 *   <li>{@link #GZIP}: a gzip member (RFC 1952), from the JDK.
 *   <li>{@link #SNAPPY}: xerial snappy-java's stream framing (a 16-byte header, then big-endian length-prefixed raw
 *       Snappy blocks of 32 KiB input), as Kafka's {@code SnappyOutputStream}; a section without that header is read
 *       as one raw Snappy block, as {@code SnappyInputStream} does. See {@link SnappyStreams}.
 *   <li>{@link #LZ4}: the LZ4 frame format with independent 64 KiB blocks and no content checksum, as Kafka writes for
 *       magic v2 batches; read under Kafka's rules for v2 (see {@link Lz4FrameStreams}).
 *   <li>{@link #ZSTD}: standard Zstandard frames at level 3, Kafka's default (see {@link ZstdStreams}).
 * </ul>
 *
 * <p>NONE and GZIP need only the JDK. SNAPPY, LZ4 and ZSTD need their library on the class path
 * ({@link #library()}); the broker always has them, and an SDK application without one gets
 * {@link ErrorCode#UNSUPPORTED_COMPRESSION} naming the missing artifact from {@link RecordBatch#records()} and
 * {@link RecordBatchBuilder}, for that codec only. Code that touches a library lives in its own class, loaded on first
 * use, so a missing library never breaks the other codecs.
 */
public enum CompressionType {
    NONE(0, null, null),
    GZIP(1, null, null),
    SNAPPY(2, "org.xerial.snappy.Snappy", "org.xerial.snappy:snappy-java"),
    LZ4(3, "net.jpountz.lz4.LZ4Factory", "org.lz4:lz4-java"),
    ZSTD(4, "com.github.luben.zstd.ZstdOutputStreamNoFinalizer", "com.github.luben:zstd-jni");

    private static final CompressionType[] BY_ID = values();

    // GZIPOutputStream's default 512-byte buffer makes many tiny deflate calls; Kafka uses 8 KiB as well.
    private static final int GZIP_BUFFER_SIZE = 8 * 1024;

    private final int id;
    private final String probeClass;
    private final String library;
    /** Whether {@link #probeClass} loads; looked up once, on first need. */
    private volatile Boolean available;

    CompressionType(int id, String probeClass, String library) {
        this.id = id;
        this.probeClass = probeClass;
        this.library = library;
    }

    /** The id stored in the batch attributes. */
    public int id() {
        return id;
    }

    /**
     * The Maven artifact ({@code groupId:artifactId}) this codec needs on the class path, or {@code null} for the
     * codecs the JDK provides (NONE, GZIP).
     */
    public String library() {
        return library;
    }

    /** Whether this JVM can decode and encode the records of a batch with this codec: its library is present. */
    public boolean isSupported() {
        if (probeClass == null) {
            return true;
        }
        Boolean known = available;
        if (known == null) {
            known = loads(probeClass);
            available = known;
        }
        return known;
    }

    private static boolean loads(String className) {
        try {
            Class.forName(className, false, CompressionType.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * The codec with the given attribute id.
     *
     * @throws MillraceException with {@link ErrorCode#UNSUPPORTED_COMPRESSION} for an id no codec has (5-7)
     */
    public static CompressionType forId(int id) {
        if (id < 0 || id >= BY_ID.length) {
            throw new MillraceException(ErrorCode.UNSUPPORTED_COMPRESSION, "Unknown compression type id " + id
                    + " (Kafka defines 0-4: none, gzip, snappy, lz4, zstd)");
        }
        return BY_ID[id];
    }

    /** Throws {@link ErrorCode#UNSUPPORTED_COMPRESSION}, naming the missing library, unless {@link #isSupported()}. */
    void ensureSupported() {
        if (!isSupported()) {
            throw new MillraceException(ErrorCode.UNSUPPORTED_COMPRESSION, "Compression " + this + " needs "
                    + library + " on the class path (the version kafka-clients 4.1 uses); add it to the application");
        }
    }

    /** Wraps {@code out} so that what is written to it is compressed; closing the wrapper finishes the stream. */
    OutputStream wrapForOutput(OutputStream out) throws IOException {
        ensureSupported();
        return switch (this) {
            case NONE -> out;
            case GZIP -> new GZIPOutputStream(out, GZIP_BUFFER_SIZE);
            case SNAPPY -> SnappyStreams.compressing(out);
            case LZ4 -> Lz4FrameStreams.compressing(out);
            case ZSTD -> ZstdStreams.compressing(out);
        };
    }

    /**
     * Reads the decompressed bytes of {@code compressed} (its remaining bytes; the buffer's position is not kept).
     * Malformed input fails with an {@link IOException}; a codec whose framing declares sizes checks them against
     * {@code maxBytes} before allocating and fails with {@link DecompressionLimitException}.
     */
    InputStream wrapForInput(ByteBuffer compressed, int maxBytes) throws IOException {
        ensureSupported();
        return switch (this) {
            case NONE -> new ByteBufferInputStream(compressed);
            case GZIP -> new GZIPInputStream(new ByteBufferInputStream(compressed), GZIP_BUFFER_SIZE);
            case SNAPPY -> SnappyStreams.decompressing(compressed, maxBytes);
            case LZ4 -> Lz4FrameStreams.decompressing(compressed);
            case ZSTD -> ZstdStreams.decompressing(compressed);
        };
    }
}
