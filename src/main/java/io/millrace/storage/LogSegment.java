package io.millrace.storage;

import io.millrace.record.RecordBatch;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One segment of a partition log: the file {@code <20-digit base offset>.log} holding whole record batches back to
 * back, exactly as they are sent on the wire (RecordBatch v2, see {@link RecordBatch}), with its {@link OffsetIndex}
 * and {@link TimeIndex} beside it. Offsets are dense: the first batch starts at the base offset and each batch starts
 * one past the previous batch's last offset.
 *
 * <p>The log file is the only source of truth. Everything else about a segment (its end offset, its largest
 * timestamp, both indexes) is derived, and {@link #recover} derives it again from the bytes after a crash.
 *
 * <p>Not thread-safe: only the owning {@link PartitionLog}'s thread calls it, except {@link #flush}, which the log's
 * flush executor may run concurrently with appends.
 */
final class LogSegment implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LogSegment.class);
    static final String LOG_SUFFIX = ".log";
    /**
     * Source of segment generations, shared by every log of the process, so that no segment object, not even one
     * recreated under the name of a deleted one, ever repeats a generation another had.
     */
    private static final AtomicLong GENERATIONS = new AtomicLong();

    private final long baseOffset;
    private final Path logFile;
    private final FileChannel channel;
    private final OffsetIndex offsetIndex;
    private final TimeIndex timeIndex;
    private final int indexIntervalBytes;
    private final ByteBuffer headerScratch = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);

    private long size;
    private long nextOffset;
    private long maxTimestamp = -1;
    private long offsetOfMaxTimestamp;
    private long firstBatchTimestamp = -1;
    private int bytesSinceLastIndexEntry;
    private volatile boolean deleted;
    /**
     * Identifies the bytes of the file as readers saw them: new for each segment object and at each truncation,
     * so a {@link LogSlice} read before can tell that its region may now hold other batches. Read by any thread.
     */
    private volatile long generation = GENERATIONS.incrementAndGet();

    private LogSegment(Path dir, long baseOffset, LogConfig config) throws IOException {
        this.baseOffset = baseOffset;
        this.logFile = dir.resolve(fileName(baseOffset, LOG_SUFFIX));
        this.channel = FileChannel.open(logFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        this.indexIntervalBytes = config.indexIntervalBytes();
        this.offsetIndex = new OffsetIndex(dir.resolve(fileName(baseOffset, OffsetIndex.SUFFIX)), baseOffset,
                config.segmentIndexBytes());
        // A time entry accompanies at most one offset entry (plus the final one), so it needs as many slots.
        this.timeIndex = new TimeIndex(dir.resolve(fileName(baseOffset, TimeIndex.SUFFIX)), baseOffset,
                config.segmentIndexBytes() / 8 * 12 + 12);
        this.size = channel.size();
        this.nextOffset = baseOffset;
        this.offsetOfMaxTimestamp = baseOffset;
    }

    /** Creates a new, empty segment starting at {@code baseOffset}, replacing any files of that name. */
    static LogSegment create(Path dir, long baseOffset, LogConfig config) {
        try {
            for (String suffix : new String[] {LOG_SUFFIX, OffsetIndex.SUFFIX, TimeIndex.SUFFIX}) {
                Files.deleteIfExists(dir.resolve(fileName(baseOffset, suffix)));
            }
            return new LogSegment(dir, baseOffset, config);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create segment " + baseOffset + " in " + dir, e);
        }
    }

    /**
     * Opens an existing segment. When {@code recover} is false it trusts the file and the indexes if they are
     * consistent, and reads only the batch headers after the last index entry; otherwise (or when an index is
     * inconsistent) it validates every batch as {@link #recover} does.
     */
    static Opened open(Path dir, long baseOffset, LogConfig config, boolean recover) {
        LogSegment segment = null;
        try {
            segment = new LogSegment(dir, baseOffset, config);
            boolean indexesUsable = !recover && segment.indexesConsistent();
            long truncated = 0;
            if (indexesUsable) {
                indexesUsable = segment.loadTail() && segment.timeIndexWithinSegment();
            }
            if (!indexesUsable) {
                truncated = segment.recover();
            }
            return new Opened(segment, !indexesUsable, truncated);
        } catch (IOException | RuntimeException e) {
            if (segment != null) {
                segment.closeQuietly();
            }
            throw e instanceof IOException io ? new UncheckedIOException("Cannot open segment " + baseOffset
                    + " in " + dir, io) : (RuntimeException) e;
        }
    }

    /** A segment opened from disk, with what recovery did to it. */
    record Opened(LogSegment segment, boolean recovered, long bytesTruncated) {
    }

    static String fileName(long baseOffset, String suffix) {
        return String.format("%020d%s", baseOffset, suffix);
    }

    long baseOffset() {
        return baseOffset;
    }

    /** One past the last offset in this segment; the base offset when it is empty. */
    long nextOffset() {
        return nextOffset;
    }

    long size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    long maxTimestamp() {
        return maxTimestamp;
    }

    /** The largest timestamp of the first batch: the clock {@code segment.ms} measures a segment's age by. */
    OptionalLong firstBatchTimestamp() {
        if (firstBatchTimestamp < 0 && size > 0) {
            try {
                firstBatchTimestamp = BatchHeader.read(channel, 0, size, headerScratch).maxTimestamp();
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read the first batch of " + logFile, e);
            }
        }
        return firstBatchTimestamp < 0 ? OptionalLong.empty() : OptionalLong.of(firstBatchTimestamp);
    }

    boolean offsetIndexFull() {
        return offsetIndex.isFull() || timeIndex.isFull();
    }

    /**
     * Appends one batch whose offsets the log has already assigned. The caller has validated the batch and checked
     * that it fits ({@code size + batch size} within {@code segment.bytes}, relative offsets within an int).
     */
    void append(RecordBatch batch) {
        append(List.of(batch));
    }

    /**
     * Appends batches whose offsets the log has already assigned, with one gathering write: a group of small batches
     * costs the kernel one write, not one per batch. All or nothing: if the write fails, the file is cut back to its
     * previous end and nothing about the segment changes.
     */
    void append(List<RecordBatch> batches) {
        ByteBuffer[] buffers = new ByteBuffer[batches.size()];
        long total = 0;
        for (int i = 0; i < buffers.length; i++) {
            buffers[i] = batches.get(i).buffer();
            total += buffers[i].remaining();
        }
        long start = size;
        try {
            channel.position(start);
            long written = 0;
            while (written < total) {
                written += channel.write(buffers);
            }
        } catch (IOException e) {
            try {
                channel.truncate(start);
            } catch (IOException ignored) {
                // The original failure is the one to report; recovery cuts any torn tail on the next open.
            }
            throw new UncheckedIOException("Cannot append to " + logFile, e);
        }
        long position = start;
        for (RecordBatch batch : batches) {
            if (position == 0) {
                firstBatchTimestamp = batch.maxTimestamp();
            }
            onBatch(batch.baseOffset(), position, batch.sizeInBytes(), batch.lastOffset(), batch.maxTimestamp());
            position += batch.sizeInBytes();
        }
        size = position;
    }

    /** Updates the derived state for a batch written at {@code position}: end offset, max timestamp, indexes. */
    private void onBatch(long batchBaseOffset, long position, int batchSize, long lastOffset, long batchMaxTimestamp) {
        if (batchMaxTimestamp > maxTimestamp) {
            maxTimestamp = batchMaxTimestamp;
            offsetOfMaxTimestamp = lastOffset;
        }
        if (bytesSinceLastIndexEntry > indexIntervalBytes && !offsetIndex.isFull()) {
            try {
                offsetIndex.append(batchBaseOffset, (int) position);
                timeIndex.maybeAppend(maxTimestamp, offsetOfMaxTimestamp);
                bytesSinceLastIndexEntry = 0;
            } catch (UncheckedIOException e) {
                // The batch is already in the log file; failing its produce now would report a write that happened as
                // lost. The indexes are sparse, so a missing entry only makes lookups scan a little further, and
                // the next batch tries to index again.
                LOG.warn("Index entry for offset {} of {} skipped: {}", batchBaseOffset, logFile, e.getMessage());
            }
        }
        bytesSinceLastIndexEntry += batchSize;
        nextOffset = lastOffset + 1;
    }

    /**
     * Finds the first batch that holds {@code offset} or starts after it, scanning forward from the index's hint.
     * Empty when every batch of the segment ends before {@code offset}.
     */
    Optional<BatchHeader> findBatch(long offset) throws IOException {
        long position = offsetIndex.lookup(offset).map(OffsetIndex.Entry::position).orElse(0);
        while (position < size) {
            BatchHeader header = BatchHeader.read(channel, position, size, headerScratch);
            if (header.lastOffset() >= offset) {
                return Optional.of(header);
            }
            position = header.nextPosition();
        }
        return Optional.empty();
    }

    /**
     * Reads whole batches starting with the one that holds {@code offset}: at least one batch (so a reader always
     * makes progress, whatever its limit), then more while they fit in {@code maxBytes}, stopping before any batch
     * that reaches {@code maxOffsetExclusive}.
     */
    LogSlice read(long offset, int maxBytes, long maxOffsetExclusive) {
        try {
            Optional<BatchHeader> first = findBatch(offset);
            if (first.isEmpty() || first.get().lastOffset() >= maxOffsetExclusive) {
                return LogSlice.empty(offset);
            }
            BatchHeader last = first.get();
            long end = last.nextPosition();
            while (end < size) {
                BatchHeader next = BatchHeader.read(channel, end, size, headerScratch);
                if (next.lastOffset() >= maxOffsetExclusive
                        || next.nextPosition() - first.get().position() > maxBytes) {
                    break;
                }
                last = next;
                end = next.nextPosition();
            }
            long position = first.get().position();
            return new LogSlice(this, generation, logFile, channel, position, (int) (end - position),
                    first.get().baseOffset(), last.nextOffset());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + logFile + " at offset " + offset, e);
        }
    }

    /**
     * The first batch whose largest timestamp is at least {@code timestamp}, found through the time index; empty
     * when the segment holds no such batch.
     */
    Optional<BatchHeader> findBatchByTimestamp(long timestamp) throws IOException {
        if (maxTimestamp < timestamp) {
            return Optional.empty();
        }
        long startOffset = timeIndex.lookupBefore(timestamp).map(TimeIndex.Entry::offset).orElse(baseOffset);
        long position = offsetIndex.lookup(startOffset).map(OffsetIndex.Entry::position).orElse(0);
        while (position < size) {
            BatchHeader header = BatchHeader.read(channel, position, size, headerScratch);
            if (header.maxTimestamp() >= timestamp) {
                return Optional.of(header);
            }
            position = header.nextPosition();
        }
        return Optional.empty();
    }

    /** Calls {@code action} with the header of every batch that holds or follows {@code fromOffset}, in order. */
    void forEachBatch(long fromOffset, java.util.function.Consumer<BatchHeader> action) throws IOException {
        Optional<BatchHeader> first = findBatch(fromOffset);
        if (first.isEmpty()) {
            return;
        }
        long position = first.get().position();
        while (position < size) {
            BatchHeader header = BatchHeader.read(channel, position, size, headerScratch);
            action.accept(header);
            position = header.nextPosition();
        }
    }

    /** Reads one whole batch whose header was found by this segment. */
    RecordBatch readBatch(BatchHeader header) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(header.sizeInBytes());
        BatchHeader.readFully(channel, buffer, header.position());
        return RecordBatch.wrap(buffer);
    }

    /**
     * Scan, validate, truncate: walks every batch from the start, checking its header (magic, length within the
     * file, offsets continuing the previous batch) and its CRC, rebuilds both indexes, and cuts the file at the first
     * byte that is not part of a valid batch.
     *
     * @return the number of bytes cut from the end of the file
     */
    long recover() throws IOException {
        offsetIndex.reset();
        timeIndex.reset();
        offsetIndex.growToMax();
        timeIndex.growToMax();
        resetDerivedState();
        long fileSize = channel.size();
        long position = 0;
        ByteBuffer batchBuffer = ByteBuffer.allocate(64 * 1024);
        while (position < fileSize) {
            BatchHeader header;
            try {
                header = BatchHeader.read(channel, position, fileSize, headerScratch);
            } catch (EOFException e) {
                break;
            }
            if (!header.isPlausible(nextOffset, fileSize) || header.lastOffset() - baseOffset > Integer.MAX_VALUE) {
                break;
            }
            if (batchBuffer.capacity() < header.sizeInBytes()) {
                batchBuffer = ByteBuffer.allocate(header.sizeInBytes());
            }
            batchBuffer.clear().limit(header.sizeInBytes());
            BatchHeader.readFully(channel, batchBuffer, position);
            RecordBatch batch;
            try {
                batch = RecordBatch.wrap(batchBuffer);
            } catch (RuntimeException e) {
                break;
            }
            if (!batch.isValid() || batch.recordCount() != batch.lastOffsetDelta() + 1) {
                break;
            }
            if (position == 0) {
                firstBatchTimestamp = header.maxTimestamp();
            }
            onBatch(header.baseOffset(), position, header.sizeInBytes(), header.lastOffset(), header.maxTimestamp());
            position = header.nextPosition();
        }
        size = position;
        long truncated = fileSize - position;
        if (truncated > 0) {
            channel.truncate(position);
        }
        return truncated;
    }

    /**
     * After a clean open: takes the end offset and largest timestamp from the indexes and reads only the batch headers
     * after the last index entry. Returns false if those headers do not line up, so the caller recovers instead.
     */
    private boolean loadTail() throws IOException {
        resetDerivedState();
        Optional<OffsetIndex.Entry> lastEntry = offsetIndex.lastEntry();
        long position = lastEntry.map(OffsetIndex.Entry::position).orElse(0);
        nextOffset = lastEntry.map(OffsetIndex.Entry::offset).orElse(baseOffset);
        timeIndex.lastEntry().ifPresent(e -> {
            maxTimestamp = e.timestamp();
            offsetOfMaxTimestamp = e.offset();
        });
        bytesSinceLastIndexEntry = (int) Math.min(Integer.MAX_VALUE, size - position);
        while (position < size) {
            BatchHeader header;
            try {
                header = BatchHeader.read(channel, position, size, headerScratch);
            } catch (EOFException e) {
                return false;
            }
            if (!header.isPlausible(nextOffset, size)) {
                return false;
            }
            if (header.maxTimestamp() > maxTimestamp) {
                maxTimestamp = header.maxTimestamp();
                offsetOfMaxTimestamp = header.lastOffset();
            }
            nextOffset = header.nextOffset();
            position = header.nextPosition();
        }
        return true;
    }

    private boolean timeIndexWithinSegment() {
        return timeIndex.lastEntry().map(e -> e.offset() < nextOffset).orElse(true);
    }

    private void resetDerivedState() {
        nextOffset = baseOffset;
        maxTimestamp = -1;
        offsetOfMaxTimestamp = baseOffset;
        firstBatchTimestamp = -1;
        bytesSinceLastIndexEntry = 0;
    }

    private boolean indexesConsistent() throws IOException {
        return offsetIndex.foundOnDisk() && timeIndex.foundOnDisk()
                && offsetIndex.isConsistent(Long.MAX_VALUE, channel.size())
                && timeIndex.isConsistent(Long.MAX_VALUE);
    }

    /**
     * Removes every batch that holds an offset at or above {@code offset}; a batch straddling it goes whole, so the
     * segment may end below {@code offset}. Returns the bytes removed.
     */
    long truncateTo(long offset) {
        try {
            Optional<BatchHeader> cut = findBatch(offset);
            if (cut.isEmpty()) {
                return 0;
            }
            long position = cut.get().position();
            long removed = size - position;
            // Before the cut: a reader checking its slice after the bytes change must see the new generation.
            generation = GENERATIONS.incrementAndGet();
            offsetIndex.truncateTo(cut.get().baseOffset());
            timeIndex.truncateTo(cut.get().baseOffset());
            channel.truncate(position);
            size = position;
            if (!loadTail()) {
                throw new IllegalStateException("Segment " + logFile + " is inconsistent after truncation");
            }
            return removed;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot truncate " + logFile + " to offset " + offset, e);
        }
    }

    /** Whether the file still holds the bytes it held at {@code readGeneration}: not deleted, not truncated since. */
    boolean holdsGeneration(long readGeneration) {
        return !deleted && generation == readGeneration;
    }

    /** Makes the indexes appendable again (after they were trimmed by a clean close). */
    void becomeActive() {
        offsetIndex.growToMax();
        timeIndex.growToMax();
    }

    /** Records the final time index entry and trims both indexes to their entries, as the segment stops growing. */
    void becomeInactive() {
        if (size > 0) {
            timeIndex.maybeAppend(maxTimestamp, offsetOfMaxTimestamp);
        }
        offsetIndex.trimToEntries();
        timeIndex.trimToEntries();
    }

    /** Forces the log file and both indexes to disk. A no-op once the segment has been deleted. */
    void flush() {
        flush(true);
    }

    /**
     * Forces the log file to disk, and the indexes too when {@code withIndexes}. The flush policy skips the indexes
     * of the active segment: they are derived data that recovery rebuilds for every segment after the recovery
     * checkpoint, and they are forced when the segment is rolled, before the checkpoint moves past it.
     */
    void flush(boolean withIndexes) {
        if (deleted) {
            return;
        }
        try {
            channel.force(false);
            if (withIndexes) {
                offsetIndex.flush();
                timeIndex.flush();
            }
        } catch (ClosedChannelException e) {
            if (!deleted) {
                throw new UncheckedIOException("Segment " + logFile + " was closed during a flush", e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot flush " + logFile, e);
        }
    }

    /** Closes the files and deletes them. */
    void delete() {
        deleted = true;
        generation = GENERATIONS.incrementAndGet();
        try {
            channel.close();
            offsetIndex.delete();
            timeIndex.delete();
            Files.deleteIfExists(logFile);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot delete segment " + logFile, e);
        }
    }

    @Override
    public void close() {
        try {
            becomeInactive();
            offsetIndex.close();
            timeIndex.close();
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot close segment " + logFile, e);
        }
    }

    /** Releases the files without trimming or flushing anything, as a killed process would leave them. */
    void abandon() {
        closeQuietly();
    }

    private void closeQuietly() {
        try {
            offsetIndex.abandon();
            timeIndex.abandon();
            channel.close();
        } catch (IOException | RuntimeException e) {
            // Already failing; the original error is the one to report.
        }
    }

    @Override
    public String toString() {
        return "LogSegment(" + logFile.getFileName() + ", size=" + size + ", next=" + nextOffset + ")";
    }
}
