package io.millrace.record;

import com.github.luben.zstd.RecyclingBufferPool;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * Zstandard as Kafka's clients use it: standard zstd frames (RFC 8878) from zstd-jni's streams, written at level 3
 * (Kafka's default {@code compression.zstd.level}) without a content size or checksum, read whatever frame parameters
 * the writer chose, within zstd's default window limit (128 MiB), as Kafka. The only class of this package that
 * touches zstd-jni. The streams hold native memory until closed, so callers close them.
 */
final class ZstdStreams {

    private static final int KAFKA_DEFAULT_LEVEL = 3;

    private ZstdStreams() {
    }

    static OutputStream compressing(OutputStream out) throws IOException {
        return new ZstdOutputStreamNoFinalizer(out, RecyclingBufferPool.INSTANCE, KAFKA_DEFAULT_LEVEL);
    }

    static InputStream decompressing(ByteBuffer compressed) throws IOException {
        return new Checked(new ZstdInputStreamNoFinalizer(new ByteBufferInputStream(compressed.slice()),
                RecyclingBufferPool.INSTANCE));
    }

    /** zstd-jni reports most bad input as IOExceptions and some as unchecked ones; to a reader all are corrupt input. */
    private static final class Checked extends FilterInputStream {
        Checked(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (RuntimeException e) {
                throw new IOException("Malformed Zstandard frame: " + e.getMessage(), e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (RuntimeException e) {
                throw new IOException("Malformed Zstandard frame: " + e.getMessage(), e);
            }
        }
    }
}
