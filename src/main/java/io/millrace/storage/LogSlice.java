package io.millrace.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Whole record batches, back to back, as a region of one segment file: what a read returns. A network layer can
 * send the region straight from the file ({@link #transferTo}, or {@code sendFile(file, position, sizeInBytes)})
 * without copying it through the heap.
 *
 * <p>The region describes the file as it was when read. Retention may delete the segment, and a follower truncating a
 * divergent tail may cut the file and write other batches at the same positions, under the same name; a size check
 * cannot tell the difference. So a slice remembers its segment's generation, which changes whenever the segment is
 * truncated (and a segment recreated under the same name is a new one), and {@link #isStillValid(int)} says whether
 * the region still holds the bytes that were read. Check it right before handing the region to the kernel: a
 * truncation after that check is not detected (as in Kafka, truncation below the high watermark, which readers stay
 * under, does not happen in normal operation). Immutable and thread-safe.
 */
public final class LogSlice {

    private final Path file;
    private final FileChannel channel;
    private final long position;
    private final int sizeInBytes;
    private final long firstOffset;
    private final long nextOffset;
    /** The segment read, or null for a slice made outside the log. */
    private final LogSegment segment;
    private final long generation;

    /**
     * A slice not tied to a segment (nothing to read, or a region made by hand): its validity is only that the
     * channel is open and long enough.
     *
     * @param file        the segment file
     * @param channel     an open channel on it, shared with the log: never close it
     * @param position    byte position of the first batch
     * @param sizeInBytes bytes of whole batches; 0 when there was nothing to read
     * @param firstOffset base offset of the first batch (the offset asked for may lie inside it)
     * @param nextOffset  the offset to read next: one past the last record of the last batch
     */
    public LogSlice(Path file, FileChannel channel, long position, int sizeInBytes, long firstOffset,
                    long nextOffset) {
        this(null, -1, file, channel, position, sizeInBytes, firstOffset, nextOffset);
    }

    LogSlice(LogSegment segment, long generation, Path file, FileChannel channel, long position, int sizeInBytes,
             long firstOffset, long nextOffset) {
        this.segment = segment;
        this.generation = generation;
        this.file = file;
        this.channel = channel;
        this.position = position;
        this.sizeInBytes = sizeInBytes;
        this.firstOffset = firstOffset;
        this.nextOffset = nextOffset;
    }

    /** A read that found nothing at {@code offset}. */
    public static LogSlice empty(long offset) {
        return new LogSlice(null, null, 0, 0, offset, offset);
    }

    /** The segment file; null for an empty slice. */
    public Path file() {
        return file;
    }

    /** An open channel on the file, shared with the log: never close it. Null for an empty slice. */
    public FileChannel channel() {
        return channel;
    }

    /** Byte position of the first batch. */
    public long position() {
        return position;
    }

    /** Bytes of whole batches; 0 when there was nothing to read. */
    public int sizeInBytes() {
        return sizeInBytes;
    }

    /** Base offset of the first batch (the offset asked for may lie inside it). */
    public long firstOffset() {
        return firstOffset;
    }

    /** The offset to read next: one past the last record of the last batch. */
    public long nextOffset() {
        return nextOffset;
    }

    public boolean isEmpty() {
        return sizeInBytes == 0;
    }

    /** Whether the whole region still holds the batches that were read; see {@link #isStillValid(int)}. */
    public boolean isStillValid() {
        return isStillValid(sizeInBytes);
    }

    /**
     * Whether the first {@code length} bytes of the region still hold the batches that were read: the segment was
     * neither deleted nor truncated since (a new generation), its channel is open and the file long enough. Always
     * true for an empty slice. Callable from any thread; see the class comment for the window it leaves.
     */
    public boolean isStillValid(int length) {
        if (length <= 0) {
            return true;
        }
        if (segment != null && !segment.holdsGeneration(generation)) {
            return false;
        }
        try {
            return channel.isOpen() && channel.size() >= position + length;
        } catch (IOException e) {
            return false;
        }
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

    /** Slices are equal when they describe the same region of the same file read at the same generation. */
    @Override
    public boolean equals(Object o) {
        return o instanceof LogSlice other && position == other.position && sizeInBytes == other.sizeInBytes
                && firstOffset == other.firstOffset && nextOffset == other.nextOffset
                && generation == other.generation && Objects.equals(file, other.file)
                && Objects.equals(channel, other.channel);
    }

    @Override
    public int hashCode() {
        return Objects.hash(file, position, sizeInBytes, firstOffset, nextOffset, generation);
    }

    @Override
    public String toString() {
        return "LogSlice(" + (file == null ? "-" : file.getFileName()) + ", position=" + position + ", size="
                + sizeInBytes + ", offsets=" + firstOffset + ".." + nextOffset + ", generation=" + generation + ")";
    }
}
