package io.millrace.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
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
 * under, does not happen in normal operation).
 *
 * <p>A slice holds no file open: its reads go through its segment, which reopens its files if the broker's
 * {@link OpenFileBudget} closed them since (that is no change of the bytes, so the slice stays valid). Immutable and
 * thread-safe.
 */
public final class LogSlice {

    private final Path file;
    private final long position;
    private final int sizeInBytes;
    private final long firstOffset;
    private final long nextOffset;
    /** The segment read; null for an empty slice. */
    private final LogSegment segment;
    private final long generation;
    /** Batches of the slice its segment's index knew at the read, for {@link #leadingBatchesBelow}. */
    private final IndexedBatches indexed;

    LogSlice(LogSegment segment, long generation, Path file, long position, int sizeInBytes, long firstOffset,
             long nextOffset, IndexedBatches indexed) {
        this.segment = segment;
        this.generation = generation;
        this.file = file;
        this.position = position;
        this.sizeInBytes = sizeInBytes;
        this.firstOffset = firstOffset;
        this.nextOffset = nextOffset;
        this.indexed = indexed;
    }

    /** A read that found nothing at {@code offset}. */
    public static LogSlice empty(long offset) {
        return new LogSlice(null, -1, null, 0, 0, offset, offset, IndexedBatches.NONE);
    }

    /** The segment file; null for an empty slice. */
    public Path file() {
        return file;
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
     * neither deleted nor truncated since (a new generation) and the file is long enough. Always true for an empty
     * slice. Callable from any thread; see the class comment for the window it leaves.
     */
    public boolean isStillValid(int length) {
        if (length <= 0) {
            return true;
        }
        if (segment == null || !segment.holdsGeneration(generation)) {
            return false;
        }
        try {
            return segment.fileLength() >= position + length;
        } catch (IOException e) {
            return false;
        }
    }

    /** Copies the region into a new heap buffer (for readers that must look inside the batches). */
    public ByteBuffer readFully() {
        ByteBuffer buffer = ByteBuffer.allocate(sizeInBytes);
        if (sizeInBytes > 0) {
            try {
                segment.readFully(buffer, position);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read " + sizeInBytes + " bytes of " + file, e);
            }
        }
        return buffer;
    }

    /**
     * The slice's leading batches whose base offsets lie below {@code offsetLimit}, as a slice of their own: at least
     * the first batch, and this slice itself when every batch does. What a reader sends when its consumer's credit
     * ends inside the slice. Any thread may call it: it starts from the last batch the segment's index listed below
     * the limit when the slice was read, so it reads a header or two rather than one per batch.
     *
     * @throws IOException if the file no longer holds the batches that were read (a header there is not one), or it
     *                     cannot be read (the segment was deleted or the log closed)
     */
    public LogSlice leadingBatchesBelow(long offsetLimit) throws IOException {
        if (offsetLimit >= nextOffset) {
            return this;
        }
        long end = position + sizeInBytes;
        long indexedStart = indexed.startOfLastBatchEndingBelow(offsetLimit);
        long at = Math.max(position, indexedStart);
        long cutEnd = position;
        long cutNext = firstOffset;
        // Offsets are dense: each batch starts where the one before ended, so once one ends at or past the limit
        // the next starts there.
        while (at < end) {
            BatchHeader header = segment.readHeader(at, end);
            cutEnd = header.nextPosition();
            cutNext = header.nextOffset();
            if (cutNext >= offsetLimit) {
                break;
            }
            at = cutEnd;
        }
        return new LogSlice(segment, generation, file, position, (int) (cutEnd - position), firstOffset, cutNext,
                indexed);
    }

    /** Writes the region to {@code target}, zero-copy where the platform allows; returns the bytes written. */
    public long transferTo(WritableByteChannel target) throws IOException {
        if (sizeInBytes == 0) {
            return 0;
        }
        long done = segment.transferTo(position, sizeInBytes, target);
        if (done < sizeInBytes) {
            throw new IOException("Segment " + file + " ended before the region did (deleted or truncated)");
        }
        return done;
    }

    /** Slices are equal when they describe the same region of the same file read at the same generation. */
    @Override
    public boolean equals(Object o) {
        return o instanceof LogSlice other && position == other.position && sizeInBytes == other.sizeInBytes
                && firstOffset == other.firstOffset && nextOffset == other.nextOffset
                && generation == other.generation && Objects.equals(file, other.file);
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
