package io.millrace.record;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

/**
 * LZ4 as Kafka's clients use it for magic v2 batches: one LZ4 frame (lz4's frame format 1.x) around blocks that
 * lz4-java compresses. The only class of this package that touches lz4-java.
 *
 * <pre>
 * magic       4 bytes LE   0x184D2204
 * FLG         1 byte       bits 7-6 version = 01, bit 5 block independence (must be 1), bit 4 block checksum,
 *                          bit 3 content size present, bit 2 content checksum present, bits 1-0 reserved = 0
 *                          (bit 0 is lz4's dictionary id, which Kafka refuses too)
 * BD          1 byte       bits 6-4 block maximum size: 4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB;
 *                          bit 7 and bits 3-0 reserved = 0
 * content size 8 bytes LE  only if FLG bit 3; skipped
 * HC          1 byte       (xxHash32 of FLG .. content size, seed 0) >> 8, low byte
 * block, repeated:
 *   size      4 bytes LE   bit 31 set: the data is stored uncompressed; bits 30-0 data size, at most the maximum
 *   data      size bytes
 *   checksum  4 bytes LE   only if FLG bit 4: xxHash32 of the data as stored, seed 0
 * end mark    4 bytes      0
 * content checksum 4 bytes only if FLG bit 2; read but not checked
 * </pre>
 *
 * <p>Written as Kafka 4.1 writes v2 batches: FLG 0x60 (independent blocks, no checksums, no size), BD 0x40 (64 KiB),
 * blocks compressed with lz4-java's fast compressor, and stored as they are when compressing would not shrink them.
 *
 * <p>Read under Kafka 4.1's rules for v2: the header checksum must match (only magic v0 batches had it wrong), block
 * checksums are checked when present, a content checksum must be present when flagged but is not verified (Kafka's
 * reader skips it, so a batch Kafka serves reads the same here; the batch CRC32C already covers these bytes), and
 * bytes after the end mark are ignored. Decompression uses lz4-java's pure-Java safe decompressor, bounds-checked
 * against hostile input.
 */
final class Lz4FrameStreams {

    static final int MAGIC = 0x184D2204;
    private static final int UNCOMPRESSED_BLOCK = 0x80000000;
    private static final int BLOCK_SIZE_64_KIB = 4;
    private static final int FLG_VERSION_1 = 0x40;
    private static final int FLG_VERSION_MASK = 0xC0;
    private static final int FLG_BLOCK_INDEPENDENCE = 0x20;
    private static final int FLG_BLOCK_CHECKSUM = 0x10;
    private static final int FLG_CONTENT_SIZE = 0x08;
    private static final int FLG_CONTENT_CHECKSUM = 0x04;
    private static final int FLG_RESERVED = 0x03;
    private static final int BD_RESERVED = 0x8F;

    private static final XXHash32 XXHASH = XXHashFactory.safeInstance().hash32();
    private static final LZ4SafeDecompressor DECOMPRESSOR = LZ4Factory.safeInstance().safeDecompressor();

    private Lz4FrameStreams() {
    }

    static OutputStream compressing(OutputStream out) throws IOException {
        return new Writer(out);
    }

    static InputStream decompressing(ByteBuffer compressed) throws IOException {
        return new Reader(compressed);
    }

    private static int maxBlockSize(int blockSizeCode) {
        return 1 << (2 * blockSizeCode + 8);
    }

    private static byte descriptorChecksum(byte[] descriptor, int offset, int length) {
        return (byte) (XXHASH.hash(descriptor, offset, length, 0) >> 8);
    }

    /** Buffers up to one 64 KiB block and writes it when full or at close. Not thread-safe. */
    private static final class Writer extends OutputStream {
        private static final LZ4Compressor COMPRESSOR = LZ4Factory.fastestInstance().fastCompressor();

        private final OutputStream out;
        private final byte[] block = new byte[maxBlockSize(BLOCK_SIZE_64_KIB)];
        private final byte[] compressed = new byte[4 + COMPRESSOR.maxCompressedLength(block.length)];
        private int buffered;
        private boolean closed;

        Writer(OutputStream out) throws IOException {
            this.out = out;
            byte[] header = new byte[7];
            ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).putInt(MAGIC);
            header[4] = (byte) (FLG_VERSION_1 | FLG_BLOCK_INDEPENDENCE);
            header[5] = (byte) (BLOCK_SIZE_64_KIB << 4);
            header[6] = descriptorChecksum(header, 4, 2);
            out.write(header);
        }

        @Override
        public void write(int b) throws IOException {
            ensureOpen();
            if (buffered == block.length) {
                writeBlock();
            }
            block[buffered++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ensureOpen();
            while (len > 0) {
                if (buffered == block.length) {
                    writeBlock();
                }
                int n = Math.min(len, block.length - buffered);
                System.arraycopy(b, off, block, buffered, n);
                buffered += n;
                off += n;
                len -= n;
            }
        }

        private void writeBlock() throws IOException {
            if (buffered == 0) {
                return;
            }
            ByteBuffer prefix = ByteBuffer.wrap(compressed, 0, 4).order(ByteOrder.LITTLE_ENDIAN);
            int size = COMPRESSOR.compress(block, 0, buffered, compressed, 4, compressed.length - 4);
            if (size >= buffered) {
                prefix.putInt(buffered | UNCOMPRESSED_BLOCK);
                out.write(compressed, 0, 4);
                out.write(block, 0, buffered);
            } else {
                prefix.putInt(size);
                out.write(compressed, 0, 4 + size);
            }
            buffered = 0;
        }

        private void ensureOpen() throws IOException {
            if (closed) {
                throw new IOException("LZ4 frame already finished");
            }
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            try {
                writeBlock();
                out.write(new byte[4]);
            } finally {
                closed = true;
                out.close();
            }
        }
    }

    /** Decodes one block at a time from the frame's bytes. Not thread-safe. */
    private static final class Reader extends BlockInputStream {
        private final ByteBuffer in;
        private final boolean blockChecksums;
        private final boolean contentChecksum;
        private final int maxBlockSize;
        private byte[] decoded;

        Reader(ByteBuffer compressed) throws IOException {
            in = compressed.slice().order(ByteOrder.LITTLE_ENDIAN);
            if (in.remaining() < 7) {
                throw new IOException("LZ4 frame of " + in.remaining() + " bytes is shorter than its header");
            }
            int magic = in.getInt();
            if (magic != MAGIC) {
                throw new IOException("Not an LZ4 frame: magic 0x" + Integer.toHexString(magic));
            }
            int flg = in.get() & 0xff;
            int bd = in.get() & 0xff;
            if ((flg & FLG_VERSION_MASK) != FLG_VERSION_1 || (flg & FLG_RESERVED) != 0 || (bd & BD_RESERVED) != 0) {
                throw new IOException("LZ4 frame descriptor 0x" + Integer.toHexString(flg) + " 0x"
                        + Integer.toHexString(bd) + " has a version or reserved bits Kafka does not write");
            }
            if ((flg & FLG_BLOCK_INDEPENDENCE) == 0) {
                throw new IOException("LZ4 frames with dependent blocks are not supported (nor by Kafka)");
            }
            int blockSizeCode = (bd >> 4) & 7;
            if (blockSizeCode < 4) {
                throw new IOException("LZ4 block size code " + blockSizeCode + " is not 4-7");
            }
            maxBlockSize = maxBlockSize(blockSizeCode);
            blockChecksums = (flg & FLG_BLOCK_CHECKSUM) != 0;
            contentChecksum = (flg & FLG_CONTENT_CHECKSUM) != 0;
            int descriptorLength = (flg & FLG_CONTENT_SIZE) != 0 ? 10 : 2;
            if (in.remaining() < descriptorLength - 2 + 1) {
                throw new IOException("LZ4 frame ends inside its descriptor");
            }
            in.position(4 + descriptorLength);
            byte expected = (byte) (XXHASH.hash(in, 4, descriptorLength, 0) >> 8);
            if (in.get() != expected) {
                throw new IOException("LZ4 frame descriptor checksum does not match");
            }
        }

        @Override
        protected ByteBuffer nextBlock() throws IOException {
            int size = readInt("a block size");
            boolean stored = (size & UNCOMPRESSED_BLOCK) != 0;
            size &= ~UNCOMPRESSED_BLOCK;
            if (size == 0) {
                if (contentChecksum) {
                    readInt("the content checksum");
                }
                return null;
            }
            if (size > maxBlockSize) {
                throw new IOException("LZ4 block of " + size + " bytes exceeds the frame's maximum " + maxBlockSize);
            }
            if (in.remaining() < size) {
                throw new IOException("LZ4 frame ends inside a block of " + size + " bytes");
            }
            int start = in.position();
            ByteBuffer block;
            if (stored) {
                block = in.slice().limit(size);
            } else {
                if (decoded == null) {
                    decoded = new byte[maxBlockSize];
                }
                try {
                    int length = DECOMPRESSOR.decompress(in, start, size, ByteBuffer.wrap(decoded), 0, maxBlockSize);
                    block = ByteBuffer.wrap(decoded, 0, length);
                } catch (LZ4Exception e) {
                    throw new IOException("Malformed LZ4 block: " + e.getMessage(), e);
                }
            }
            in.position(start + size);
            if (blockChecksums) {
                int stated = readInt("a block checksum");
                if (XXHASH.hash(in, start, size, 0) != stated) {
                    throw new IOException("LZ4 block checksum does not match");
                }
            }
            return block;
        }

        private int readInt(String what) throws IOException {
            if (in.remaining() < 4) {
                throw new IOException("LZ4 frame ends before " + what);
            }
            return in.getInt();
        }
    }
}
