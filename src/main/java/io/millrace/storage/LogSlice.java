package io.millrace.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;

/**
 * Whole record batches, back to back, as a region of one segment file: what a read returns. A network layer can
 * send the region straight from the file ({@link #transferTo}, or {@code sendFile(file, position, sizeInBytes)})
 * without copying it through the heap.
 *
 * <p>The region stays readable while its segment exists; once retention deletes the segment, reading it fails with an
 * I/O error and the reader should fetch again from the log start. Immutable and thread-safe.
 *
 * @param file        the segment file
 * @param channel     an open channel on it, shared with the log: never close it
 * @param position    byte position of the first batch
 * @param sizeInBytes bytes of whole batches; 0 when there was nothing to read
 * @param firstOffset base offset of the first batch (the offset asked for may lie inside it)
 * @param nextOffset  the offset to read next: one past the last record of the last batch
 */
public record LogSlice(Path file, FileChannel channel, long position, int sizeInBytes, long firstOffset,
                       long nextOffset) {

    /** A read that found nothing at {@code offset}. */
    static LogSlice empty(long offset) {
        return new LogSlice(null, null, 0, 0, offset, offset);
    }

    public boolean isEmpty() {
        return sizeInBytes == 0;
    }

    /** Copies the region into a new heap buffer (for readers that must look inside the batches). */
    public ByteBuffer readFully() {
        ByteBuffer buffer = ByteBuffer.allocate(sizeInBytes);
        if (sizeInBytes > 0) {
            try {
                BatchHeader.readFully(channel, buffer, position);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read " + sizeInBytes + " bytes of " + file, e);
            }
        }
        return buffer;
    }

    /** Writes the region to {@code target}, zero-copy where the platform allows; returns the bytes written. */
    public long transferTo(WritableByteChannel target) throws IOException {
        long done = 0;
        while (done < sizeInBytes) {
            long n = channel.transferTo(position + done, sizeInBytes - done, target);
            if (n <= 0) {
                throw new IOException("Segment " + file + " ended before the region did (deleted or truncated)");
            }
            done += n;
        }
        return done;
    }
}
