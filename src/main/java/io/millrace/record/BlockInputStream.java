package io.millrace.record;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * A decompressing stream over a framed format that decodes one block at a time (Snappy chunks, LZ4 blocks): it hands
 * out each decoded block, then asks for the next. Not thread-safe.
 */
abstract class BlockInputStream extends InputStream {
    private ByteBuffer block = ByteBuffer.allocate(0);
    private boolean ended;

    /**
     * Decodes the next block; {@code null} at the end of the stream. An empty block is allowed.
     *
     * @throws IOException if the input is malformed
     */
    protected abstract ByteBuffer nextBlock() throws IOException;

    @Override
    public final int read() throws IOException {
        return fill() ? block.get() & 0xff : -1;
    }

    @Override
    public final int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, block.remaining());
        block.get(b, off, n);
        return n;
    }

    private boolean fill() throws IOException {
        while (!block.hasRemaining()) {
            if (ended) {
                return false;
            }
            ByteBuffer next = nextBlock();
            if (next == null) {
                ended = true;
                return false;
            }
            block = next;
        }
        return true;
    }
}
