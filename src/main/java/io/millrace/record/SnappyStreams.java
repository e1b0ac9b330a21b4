package io.millrace.record;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import org.xerial.snappy.Snappy;
import org.xerial.snappy.SnappyError;
import org.xerial.snappy.SnappyOutputStream;

/**
 * Snappy as Kafka's clients use it: snappy-java's stream framing around raw Snappy blocks. The only class of this
 * package that touches snappy-java, so that the other codecs work without it.
 *
 * <pre>
 * header (16 bytes)  0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00   magic
 *                    int32 BE                            version, at least 1
 *                    int32 BE                            minimum compatible version (not checked, as snappy-java)
 * chunk, repeated    int32 BE                            length of the compressed block that follows
 *                    bytes                               one raw Snappy block; it states its decompressed length
 * </pre>
 * A chunk length equal to the first four magic bytes starts a repeated header (concatenated streams). A section that
 * does not begin with the magic is one raw Snappy block, as snappy-java's {@code SnappyInputStream} reads it.
 *
 * <p>Writing uses snappy-java's own {@link SnappyOutputStream} with its 32 KiB blocks, exactly as Kafka's producer.
 * Reading is done here rather than with {@code SnappyInputStream}, which allocates whatever size a chunk claims and
 * fails hostile input with {@link Error}s; this reader checks every length against the bytes present and the
 * decompression limit first.
 */
final class SnappyStreams {

    private static final byte[] MAGIC = {(byte) 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    private static final int HEADER_SIZE = MAGIC.length + 8;
    private static final int MAGIC_HEAD = ByteBuffer.wrap(MAGIC).getInt();

    private SnappyStreams() {
    }

    static OutputStream compressing(OutputStream out) {
        return new SnappyOutputStream(out);
    }

    static InputStream decompressing(ByteBuffer compressed, int maxBytes) throws IOException {
        return new Reader(compressed, maxBytes);
    }

    /** Decodes one chunk at a time, reusing its output array. Not thread-safe. */
    private static final class Reader extends BlockInputStream {
        private final ByteBuffer in;
        private final boolean framed;
        private final int maxBytes;
        private long produced;
        private byte[] scratch = new byte[0];
        private byte[] block = new byte[0];
        private boolean rawBlockDone;

        Reader(ByteBuffer compressed, int maxBytes) throws IOException {
            this.in = compressed.slice();
            this.maxBytes = maxBytes;
            this.framed = startsWithMagic(in);
            if (framed) {
                skipHeader();
            }
        }

        private static boolean startsWithMagic(ByteBuffer buffer) {
            if (buffer.remaining() < HEADER_SIZE) {
                return false;
            }
            for (int i = 0; i < MAGIC.length; i++) {
                if (buffer.get(buffer.position() + i) != MAGIC[i]) {
                    return false;
                }
            }
            return true;
        }

        private void skipHeader() throws IOException {
            if (!startsWithMagic(in)) {
                throw new IOException("Snappy stream header is truncated or damaged");
            }
            int version = in.getInt(in.position() + MAGIC.length);
            if (version < 1) {
                throw new IOException("Snappy stream version " + version + " is not one snappy-java writes");
            }
            in.position(in.position() + HEADER_SIZE);
        }

        @Override
        protected ByteBuffer nextBlock() throws IOException {
            if (!framed) {
                if (rawBlockDone) {
                    return null;
                }
                rawBlockDone = true;
                return decode(in.remaining());
            }
            while (in.hasRemaining()) {
                if (in.remaining() < 4) {
                    throw new IOException("Snappy stream ends inside a chunk length");
                }
                int length = in.getInt(in.position());
                if (length == MAGIC_HEAD) {
                    skipHeader();
                    continue;
                }
                in.position(in.position() + 4);
                if (length < 0 || length > in.remaining()) {
                    throw new IOException("Snappy chunk of " + length + " bytes, but " + in.remaining()
                            + " bytes remain");
                }
                return decode(length);
            }
            return null;
        }

        private ByteBuffer decode(int length) throws IOException {
            byte[] source;
            int offset;
            if (in.hasArray()) {
                source = in.array();
                offset = in.arrayOffset() + in.position();
            } else {
                if (scratch.length < length) {
                    scratch = new byte[length];
                }
                in.duplicate().get(scratch, 0, length);
                source = scratch;
                offset = 0;
            }
            in.position(in.position() + length);
            try {
                int size = Snappy.uncompressedLength(source, offset, length);
                if (size < 0 || produced + size > maxBytes) {
                    throw new DecompressionLimitException("A Snappy block declares " + Integer.toUnsignedString(size)
                            + " decompressed bytes after " + produced + ", more than " + maxBytes);
                }
                if (block.length < size) {
                    block = new byte[size];
                }
                int decoded = Snappy.uncompress(source, offset, length, block, 0);
                produced += decoded;
                return ByteBuffer.wrap(block, 0, decoded);
            } catch (SnappyError | RuntimeException e) {
                // snappy-java reports some malformed input as Errors and unchecked exceptions; to us it is corrupt.
                throw new IOException("Malformed Snappy block: " + e.getMessage(), e);
            }
        }
    }
}
