package io.millrace.storage;

import io.millrace.record.RecordBatch;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
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
 * <p>The files are open only while the {@link OpenFileBudget} allows: it may close them whenever nobody uses them,
 * and the next use opens them again. Every use of the files, from any thread, is bracketed by {@link #pin} and
 * {@link #unpin}; the budget closes only a segment it can claim with no user ({@link #claimForClosing}), and a user
 * arriving meanwhile waits for the close to finish and reopens. This matters most for the index mappings: touching
 * a buffer after it was unmapped crashes the JVM. Closing for the budget changes nothing readers can observe: not
 * the bytes, not the {@link #holdsGeneration generation}.
 *
 * <p>Not thread-safe: only the owning {@link PartitionLog}'s thread calls it, except {@link #flush}, which the log's
 * flush executor may run concurrently with appends, and the methods that read the log file for a {@link LogSlice}
 * ({@link #readFully}, {@link #readHeader}, {@link #transferTo}, {@link #fileLength}, {@link #holdsGeneration}), which
 * any thread may call.
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
    private final OpenFileBudget budget;
    /** Users of the files right now (see {@link #pin}), or -1 while the budget closes them. */
    private final AtomicInteger users = new AtomicInteger();
    /** The log file; null while the files are closed, for the budget or for good. Changed under the monitor. */
    private volatile FileChannel channel;
    /** Closed for good (the log closed, the segment deleted or abandoned): never reopened. Set under the monitor. */
    private volatile boolean retired;
    /** Set by every use; the budget's clock hand clears it, and closes only segments not used since its last turn. */
    private volatile boolean used = true;
    /** The log file was written since it was last forced; a closed segment is reopened to flush only then. */
    private volatile boolean logUnflushed;
    /** Same for the indexes. */
    private volatile boolean indexesUnflushed;
    /** Whether the indexes are grown for appends ({@link #becomeActive}) rather than trimmed. Owner only. */
    private boolean growing = true;
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

    private LogSegment(Path dir, long baseOffset, LogConfig config, OpenFileBudget budget) throws IOException {
        this.baseOffset = baseOffset;
        this.logFile = dir.resolve(fileName(baseOffset, LOG_SUFFIX));
        this.budget = budget;
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

    /**
     * Creates a new, empty segment starting at {@code baseOffset}, replacing any files of that name; its files count
     * in {@code budget}.
     */
    static LogSegment create(Path dir, long baseOffset, LogConfig config, OpenFileBudget budget) {
        try {
            for (String suffix : new String[] {LOG_SUFFIX, OffsetIndex.SUFFIX, TimeIndex.SUFFIX}) {
                Files.deleteIfExists(dir.resolve(fileName(baseOffset, suffix)));
            }
            LogSegment segment = new LogSegment(dir, baseOffset, config, budget);
            // New files and sparse indexes: whatever durability the log claims later needs a force first.
            segment.logUnflushed = true;
            segment.indexesUnflushed = true;
            budget.opened(segment);
            return segment;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create segment " + baseOffset + " in " + dir, e);
        }
    }

    /**
     * Opens an existing segment. When {@code recover} is false it trusts the file and the indexes if they are
     * consistent, and reads only the batch headers after the last index entry; otherwise (or when an index is
     * inconsistent) it validates every batch as {@link #recover} does. Its files count in {@code budget}.
     */
    static Opened open(Path dir, long baseOffset, LogConfig config, boolean recover, OpenFileBudget budget) {
        LogSegment segment = null;
        try {
            segment = new LogSegment(dir, baseOffset, config, budget);
            FileChannel opened = segment.channel;
            boolean indexesUsable = !recover && segment.indexesConsistent(opened)
                    && segment.indexKeysMatchBatches(opened);
            long truncated = 0;
            if (indexesUsable) {
                indexesUsable = segment.loadTail(opened) && segment.timeIndexWithinSegment();
            }
            if (!indexesUsable) {
                truncated = segment.recover();
            }
            // Registered only now: until here nobody else knew the segment, so the budget could not close it.
            budget.opened(segment);
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
                FileChannel open = pin();
                try {
                    firstBatchTimestamp = BatchHeader.read(open, 0, size, headerScratch).maxTimestamp();
                } finally {
                    unpin();
                }
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
        FileChannel open;
        try {
            open = pin();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot reopen " + logFile + " to append to it", e);
        }
        try {
            write(open, batches);
        } finally {
            unpin();
        }
    }

    private void write(FileChannel open, List<RecordBatch> batches) {
        ByteBuffer[] buffers = new ByteBuffer[batches.size()];
        long total = 0;
        for (int i = 0; i < buffers.length; i++) {
            buffers[i] = batches.get(i).buffer();
            total += buffers[i].remaining();
        }
        long start = size;
        try {
            open.position(start);
            long written = 0;
            while (written < total) {
                written += open.write(buffers);
            }
        } catch (IOException e) {
            try {
                open.truncate(start);
            } catch (IOException ignored) {
                // The original failure is the one to report; recovery cuts any torn tail on the next open.
            }
            throw new UncheckedIOException("Cannot append to " + logFile, e);
        } finally {
            markUnflushed();
        }
        long position = start;
        for (RecordBatch batch : batches) {
            if (position == 0) {
                firstBatchTimestamp = batch.maxTimestamp();
            }
            onBatch(position, batch.sizeInBytes(), batch.lastOffset(), batch.maxTimestamp());
            position += batch.sizeInBytes();
        }
        size = position;
    }

    /** After a write to the files, so that a flush reopens the segment if the budget closed it meanwhile. */
    private void markUnflushed() {
        if (!logUnflushed) {
            logUnflushed = true;
        }
        if (!indexesUnflushed) {
            indexesUnflushed = true;
        }
    }

    /** Updates the derived state for a batch written at {@code position}: end offset, max timestamp, indexes. */
    private void onBatch(long position, int batchSize, long lastOffset, long batchMaxTimestamp) {
        if (batchMaxTimestamp > maxTimestamp) {
            maxTimestamp = batchMaxTimestamp;
            offsetOfMaxTimestamp = lastOffset;
        }
        if (bytesSinceLastIndexEntry > indexIntervalBytes && !offsetIndex.isFull()) {
            try {
                offsetIndex.append(lastOffset, (int) position);
                timeIndex.maybeAppend(maxTimestamp, offsetOfMaxTimestamp);
                bytesSinceLastIndexEntry = 0;
            } catch (UncheckedIOException e) {
                // The batch is already in the log file; failing its produce now would report a write that happened as
                // lost. The indexes are sparse, so a missing entry only makes lookups scan a little further, and
                // the next batch tries to index again.
                LOG.warn("Index entry for offset {} of {} skipped: {}", lastOffset, logFile, e.getMessage());
            }
        }
        bytesSinceLastIndexEntry += batchSize;
        nextOffset = lastOffset + 1;
    }

    /**
     * Finds the first batch that holds {@code offset} or starts after it, scanning forward from the index's hint.
     * Empty when every batch of the segment ends before {@code offset}. The caller has pinned the files.
     */
    private Optional<BatchHeader> findBatch(FileChannel open, long offset) throws IOException {
        long position = offsetIndex.lookup(offset).map(OffsetIndex.Entry::position).orElse(0);
        while (position < size) {
            BatchHeader header = BatchHeader.read(open, position, size, headerScratch);
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
            FileChannel open = pin();
            try {
                return read(open, offset, maxBytes, maxOffsetExclusive);
            } finally {
                unpin();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + logFile + " at offset " + offset, e);
        }
    }

    private LogSlice read(FileChannel open, long offset, int maxBytes, long maxOffsetExclusive) throws IOException {
        Optional<BatchHeader> first = findBatch(open, offset);
        if (first.isEmpty() || first.get().lastOffset() >= maxOffsetExclusive) {
            return LogSlice.empty(offset);
        }
        BatchHeader last = skipBatchesThatFit(open, first.get(), maxBytes, maxOffsetExclusive);
        long end = last.nextPosition();
        while (end < size) {
            BatchHeader next = BatchHeader.read(open, end, size, headerScratch);
            if (next.lastOffset() >= maxOffsetExclusive
                    || next.nextPosition() - first.get().position() > maxBytes) {
                break;
            }
            last = next;
            end = next.nextPosition();
        }
        long position = first.get().position();
        // A reader may cut a read of several batches shorter (a consumer's credit); the index entries spare it a walk.
        IndexedBatches indexed = last == first.get() ? IndexedBatches.NONE
                : offsetIndex.entriesBetween(first.get().lastOffset(), last.nextOffset());
        return new LogSlice(this, generation, logFile, position, (int) (end - position), first.get().baseOffset(),
                last.nextOffset(), indexed);
    }

    /**
     * The last batch of a read starting with {@code first} that the offset index proves to fit (it ends within
     * {@code maxBytes} of {@code first}'s start and below {@code maxOffsetExclusive}), or {@code first} when the index
     * proves none past it. The read then scans headers only from there: a megabyte of 16 KiB batches costs three header
     * reads instead of sixty-five, which is most of a large fetch's time on the partition's thread.
     *
     * <p>An entry that qualifies ({@link OffsetIndex#lastEntryWithin}) starts its batch within the limit, and that
     * batch ends below the offset limit, but it may end past the byte limit; then the entry before it is used, whose
     * batch ends where a later batch starts, inside the limit.
     */
    private BatchHeader skipBatchesThatFit(FileChannel open, BatchHeader first, int maxBytes,
                                           long maxOffsetExclusive) throws IOException {
        long maxEnd = first.position() + maxBytes;
        int n = offsetIndex.lastEntryWithin(maxOffsetExclusive, maxEnd);
        for (int candidate = n; candidate >= Math.max(0, n - 1); candidate--) {
            int position = offsetIndex.entry(candidate).position();
            if (position <= first.position() || position >= size) {
                return first;
            }
            BatchHeader header = BatchHeader.read(open, position, size, headerScratch);
            if (header.nextPosition() <= maxEnd && header.lastOffset() < maxOffsetExclusive) {
                return header;
            }
        }
        return first;
    }

    /**
     * The first batch ending at or above {@code fromOffset} whose largest timestamp is at least {@code timestamp},
     * found through the time index; empty when the segment holds no such batch.
     */
    Optional<BatchHeader> findBatchByTimestamp(long timestamp, long fromOffset) throws IOException {
        if (maxTimestamp < timestamp) {
            return Optional.empty();
        }
        FileChannel open = pin();
        try {
            long startOffset = Math.max(fromOffset,
                    timeIndex.lookupBefore(timestamp).map(TimeIndex.Entry::offset).orElse(baseOffset));
            long position = offsetIndex.lookup(startOffset).map(OffsetIndex.Entry::position).orElse(0);
            while (position < size) {
                BatchHeader header = BatchHeader.read(open, position, size, headerScratch);
                if (header.lastOffset() >= fromOffset && header.maxTimestamp() >= timestamp) {
                    return Optional.of(header);
                }
                position = header.nextPosition();
            }
            return Optional.empty();
        } finally {
            unpin();
        }
    }

    /** Calls {@code action} with the header of every batch that holds or follows {@code fromOffset}, in order. */
    void forEachBatch(long fromOffset, Consumer<BatchHeader> action) throws IOException {
        FileChannel open = pin();
        try {
            Optional<BatchHeader> first = findBatch(open, fromOffset);
            if (first.isEmpty()) {
                return;
            }
            long position = first.get().position();
            while (position < size) {
                BatchHeader header = BatchHeader.read(open, position, size, headerScratch);
                action.accept(header);
                position = header.nextPosition();
            }
        } finally {
            unpin();
        }
    }

    /** Reads one whole batch whose header was found by this segment. */
    RecordBatch readBatch(BatchHeader header) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(header.sizeInBytes());
        readFully(buffer, header.position());
        return RecordBatch.wrap(buffer);
    }

    /**
     * Reads {@code buffer.remaining()} bytes of the log file from {@code position} and flips the buffer, reopening
     * the file if the budget closed it. Any thread may call it.
     *
     * @throws java.nio.channels.ClosedChannelException if the segment was closed for good or deleted
     */
    void readFully(ByteBuffer buffer, long position) throws IOException {
        FileChannel open = pin();
        try {
            BatchHeader.readFully(open, buffer, position);
        } finally {
            unpin();
        }
    }

    /**
     * The header of the batch at {@code position}, which must end by {@code limit}; reopens the file if the budget
     * closed it. Any thread may call it.
     *
     * @throws IOException if the bytes there are no plausible batch header ending by {@code limit} (the file changed
     *                     since the caller learnt the position), or the segment was closed for good or deleted
     */
    BatchHeader readHeader(long position, long limit) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        if (limit - position < bytes.capacity()) {
            throw new EOFException("No batch header fits between " + position + " and " + limit + " in " + logFile);
        }
        readFully(bytes, position);
        BatchHeader header = BatchHeader.parse(position, bytes);
        if (!header.isWellFormed(limit)) {
            throw new IOException("No batch header at " + position + " of " + logFile + " ending by " + limit
                    + ": the file changed");
        }
        return header;
    }

    /**
     * Writes {@code count} bytes of the log file from {@code position} to {@code target}, zero-copy where the
     * platform allows; returns the bytes written (fewer if the file ends first). Any thread may call it.
     */
    long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        FileChannel open = pin();
        try {
            long done = 0;
            while (done < count) {
                long n = open.transferTo(position + done, count - done, target);
                if (n <= 0) {
                    break;
                }
                done += n;
            }
            return done;
        } finally {
            unpin();
        }
    }

    /** The log file's length on disk, without reopening a closed segment. Any thread may call it. */
    long fileLength() throws IOException {
        FileChannel open = channel;
        if (open != null) {
            try {
                return open.size();
            } catch (ClosedChannelException e) {
                // Closed meanwhile, for the budget or for good: ask the file system instead.
            }
        }
        return Files.size(logFile);
    }

    /**
     * Scan, validate, truncate: walks every batch from the start, checking its header (magic, length within the
     * file, offsets continuing the previous batch) and its CRC, rebuilds both indexes, and cuts the file at the first
     * byte that is not part of a valid batch.
     *
     * @return the number of bytes cut from the end of the file
     */
    long recover() throws IOException {
        FileChannel open = pin();
        try {
            markUnflushed();
            return recover(open);
        } finally {
            unpin();
        }
    }

    private long recover(FileChannel open) throws IOException {
        offsetIndex.reset();
        timeIndex.reset();
        offsetIndex.growToMax();
        timeIndex.growToMax();
        growing = true;
        resetDerivedState();
        long fileSize = open.size();
        long position = 0;
        ByteBuffer batchBuffer = ByteBuffer.allocate(64 * 1024);
        while (position < fileSize) {
            BatchHeader header;
            try {
                header = BatchHeader.read(open, position, fileSize, headerScratch);
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
            BatchHeader.readFully(open, batchBuffer, position);
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
            onBatch(position, header.sizeInBytes(), header.lastOffset(), header.maxTimestamp());
            position = header.nextPosition();
        }
        size = position;
        long truncated = fileSize - position;
        if (truncated > 0) {
            open.truncate(position);
        }
        return truncated;
    }

    /**
     * After a clean open: takes the end offset and largest timestamp from the indexes and reads only the batch headers
     * from the last index entry's batch on. Returns false if those headers do not line up, so the caller recovers
     * instead. The caller has pinned the files.
     */
    private boolean loadTail(FileChannel open) throws IOException {
        resetDerivedState();
        Optional<OffsetIndex.Entry> lastEntry = offsetIndex.lastEntry();
        long position = lastEntry.map(OffsetIndex.Entry::position).orElse(0);
        if (lastEntry.isPresent()) {
            Optional<BatchHeader> indexed = indexedBatch(open, lastEntry.get());
            if (indexed.isEmpty()) {
                return false;
            }
            // The key is the batch's last offset; the scan below expects the offset the batch starts at.
            nextOffset = indexed.get().baseOffset();
        }
        timeIndex.lastEntry().ifPresent(e -> {
            maxTimestamp = e.timestamp();
            offsetOfMaxTimestamp = e.offset();
        });
        bytesSinceLastIndexEntry = (int) Math.min(Integer.MAX_VALUE, size - position);
        while (position < size) {
            Optional<BatchHeader> next = headerAt(open, position);
            if (next.isEmpty() || !next.get().isPlausible(nextOffset, size)) {
                return false;
            }
            BatchHeader header = next.get();
            if (header.maxTimestamp() > maxTimestamp) {
                maxTimestamp = header.maxTimestamp();
                offsetOfMaxTimestamp = header.lastOffset();
            }
            nextOffset = header.nextOffset();
            position = header.nextPosition();
        }
        return true;
    }

    /**
     * The header of the batch an offset index entry points at, if that batch ends at the entry's key; empty when the
     * entry does not describe a batch of this log file.
     */
    private Optional<BatchHeader> indexedBatch(FileChannel open, OffsetIndex.Entry entry) throws IOException {
        return headerAt(open, entry.position())
                .filter(header -> header.lastOffset() == entry.offset() && header.baseOffset() >= baseOffset);
    }

    private Optional<BatchHeader> headerAt(FileChannel open, long position) throws IOException {
        try {
            return Optional.of(BatchHeader.read(open, position, size, headerScratch));
        } catch (EOFException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether the first and last offset index entries are keyed on their batch's last offset, as Kafka and this class
     * write them; two header reads per segment at open. Earlier Millrace builds keyed entries on the batch's base
     * offset: lookups still landed at or before the right batch, but Kafka's tools report each such entry of a batch
     * of several records as a mismatch, so an index like that is rebuilt, once.
     */
    private boolean indexKeysMatchBatches(FileChannel open) throws IOException {
        for (Optional<OffsetIndex.Entry> found : List.of(offsetIndex.firstEntry(), offsetIndex.lastEntry())) {
            if (found.isPresent() && indexedBatch(open, found.get()).isEmpty()) {
                logRebuild(open, found.get());
                return false;
            }
        }
        return true;
    }

    private void logRebuild(FileChannel open, OffsetIndex.Entry entry) throws IOException {
        Optional<BatchHeader> header = headerAt(open, entry.position());
        boolean keyedOnBase = header.isPresent() && header.get().baseOffset() == entry.offset();
        LOG.info("Rebuilding the indexes of {}: the offset index maps offset {} to position {}, where the batch of"
                + " offsets {} starts{}", logFile, entry.offset(), entry.position(),
                header.map(h -> h.baseOffset() + ".." + h.lastOffset()).orElse("(none)"),
                keyedOnBase ? " (an index keyed on base offsets, as earlier Millrace builds wrote it)" : "");
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

    private boolean indexesConsistent(FileChannel open) throws IOException {
        return offsetIndex.foundOnDisk() && timeIndex.foundOnDisk()
                && offsetIndex.isConsistent(Long.MAX_VALUE, open.size())
                && timeIndex.isConsistent(Long.MAX_VALUE);
    }

    /**
     * Removes every batch that holds an offset at or above {@code offset}; a batch straddling it goes whole, so the
     * segment may end below {@code offset}. Returns the bytes removed.
     */
    long truncateTo(long offset) {
        try {
            FileChannel open = pin();
            try {
                return truncateTo(open, offset);
            } finally {
                unpin();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot truncate " + logFile + " to offset " + offset, e);
        }
    }

    private long truncateTo(FileChannel open, long offset) throws IOException {
        Optional<BatchHeader> cut = findBatch(open, offset);
        if (cut.isEmpty()) {
            return 0;
        }
        long position = cut.get().position();
        long removed = size - position;
        // Before the cut: a reader checking its slice after the bytes change must see the new generation.
        generation = GENERATIONS.incrementAndGet();
        markUnflushed();
        offsetIndex.truncateTo(cut.get().baseOffset());
        timeIndex.truncateTo(cut.get().baseOffset());
        open.truncate(position);
        size = position;
        if (!loadTail(open)) {
            // An index trusted at open by its first and last entries may still hold entries keyed on base offsets in
            // between (earlier builds wrote them), one of which is now the last.
            Optional<OffsetIndex.Entry> last = offsetIndex.lastEntry();
            if (last.isPresent()) {
                logRebuild(open, last.get());
            }
            removed += recover(open);
        }
        return removed;
    }

    /** Whether the file still holds the bytes it held at {@code readGeneration}: not deleted, not truncated since. */
    boolean holdsGeneration(long readGeneration) {
        return !deleted && generation == readGeneration;
    }

    /** Makes the indexes appendable again (after they were trimmed by a clean close). */
    void becomeActive() {
        pinQuietly();
        try {
            markUnflushed();
            offsetIndex.growToMax();
            timeIndex.growToMax();
            growing = true;
        } finally {
            unpin();
        }
    }

    /** Records the final time index entry and trims both indexes to their entries, as the segment stops growing. */
    void becomeInactive() {
        pinQuietly();
        try {
            markUnflushed();
            if (size > 0) {
                timeIndex.maybeAppend(maxTimestamp, offsetOfMaxTimestamp);
            }
            offsetIndex.trimToEntries();
            timeIndex.trimToEntries();
            growing = false;
        } finally {
            unpin();
        }
    }

    /** Forces the log file and both indexes to disk. A no-op once the segment has been deleted. */
    void flush() {
        flush(true);
    }

    /**
     * Forces the log file to disk, and the indexes too when {@code withIndexes}. The flush policy skips the indexes
     * of the active segment: they are derived data that recovery rebuilds for every segment after the recovery
     * checkpoint, and they are forced when the segment is rolled, before the checkpoint moves past it. A segment the
     * budget closed is reopened only if it was written since its files were last forced: closing does not force,
     * since the page cache keeps the bytes, and the thread that closes may be an event loop.
     */
    void flush(boolean withIndexes) {
        if (deleted || (channel == null && !logUnflushed && !(withIndexes && indexesUnflushed))) {
            return;
        }
        try {
            FileChannel open = pin();
            try {
                force(open, withIndexes);
            } finally {
                unpin();
            }
        } catch (ClosedChannelException e) {
            if (!deleted) {
                throw new UncheckedIOException("Segment " + logFile + " was closed during a flush", e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot flush " + logFile, e);
        }
    }

    private void force(FileChannel open, boolean withIndexes) throws IOException {
        // Cleared before forcing: a write racing with the force sets it again, so no write is ever taken for forced.
        logUnflushed = false;
        if (withIndexes) {
            indexesUnflushed = false;
        }
        try {
            open.force(false);
            if (withIndexes) {
                offsetIndex.flush();
                timeIndex.flush();
            }
        } catch (IOException | RuntimeException e) {
            markUnflushed();
            throw e;
        }
    }

    /** Closes the files and deletes them. */
    void delete() {
        deleted = true;
        generation = GENERATIONS.incrementAndGet();
        try {
            synchronized (this) {
                FileChannel open = retire();
                if (open != null) {
                    open.close();
                }
                offsetIndex.delete();
                timeIndex.delete();
                Files.deleteIfExists(logFile);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot delete segment " + logFile, e);
        } finally {
            budget.forget(this);
        }
    }

    /** Trims the indexes of a segment still growing, then closes the files for good. */
    @Override
    public void close() {
        if (growing) {
            becomeInactive();
        }
        try {
            synchronized (this) {
                FileChannel open = retire();
                offsetIndex.close();
                timeIndex.close();
                if (open != null) {
                    open.close();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot close segment " + logFile, e);
        } finally {
            budget.forget(this);
        }
    }

    /** Releases the files without trimming or flushing anything, as a killed process would leave them. */
    void abandon() {
        closeQuietly();
        budget.forget(this);
    }

    private void closeQuietly() {
        try {
            synchronized (this) {
                FileChannel open = retire();
                offsetIndex.abandon();
                timeIndex.abandon();
                if (open != null) {
                    open.close();
                }
            }
        } catch (IOException | RuntimeException e) {
            // Already failing; the original error is the one to report.
        }
    }

    /**
     * Marks the segment closed for good, so that nobody reopens it, and takes its log file's channel (null when the
     * budget had closed it). Held under the monitor, like every change between open and closed. A user still holding
     * the channel gets a {@link ClosedChannelException} once it is closed; only the owner and the flush thread use
     * the index mappings, and their release waits for a running index flush (the index's monitor).
     */
    private FileChannel retire() {
        retired = true;
        FileChannel open = channel;
        channel = null;
        return open;
    }

    /**
     * Marks the files in use and returns the log file's channel, reopening the files (and mapping the indexes again)
     * if the budget closed them. Every use of the files, from any thread, is bracketed by this and {@link #unpin}.
     * Costs one compare-and-set and no allocation while the files are open.
     *
     * @throws ClosedChannelException if the segment was closed for good or deleted
     */
    private FileChannel pin() throws IOException {
        int n;
        while ((n = users.get()) < 0 || !users.compareAndSet(n, n + 1)) {
            if (n < 0) {
                // The budget is unmapping and closing the files: a matter of microseconds.
                Thread.yield();
            }
        }
        if (!used) {
            used = true;
        }
        FileChannel open = channel;
        if (open != null) {
            return open;
        }
        try {
            return reopen();
        } catch (IOException | RuntimeException e) {
            unpin();
            throw e;
        }
    }

    /** {@link #pin} for the owner's changes to the indexes, which report I/O errors unchecked, as the indexes do. */
    private void pinQuietly() {
        try {
            pin();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot reopen segment " + logFile, e);
        }
    }

    private void unpin() {
        users.decrementAndGet();
    }

    private FileChannel reopen() throws IOException {
        FileChannel reopened;
        synchronized (this) {
            if (retired) {
                throw new ClosedChannelException();
            }
            if (channel != null) {
                // Another user reopened the files first.
                return channel;
            }
            // No CREATE: a file gone meanwhile was deleted, and must not come back empty.
            reopened = FileChannel.open(logFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
            try {
                offsetIndex.reopen();
                timeIndex.reopen();
            } catch (IOException | RuntimeException e) {
                offsetIndex.abandon();
                timeIndex.abandon();
                reopened.close();
                throw e;
            }
            channel = reopened;
        }
        // Outside the monitor: the budget may now close other segments, taking their monitors.
        budget.opened(this);
        return reopened;
    }

    /** Called by the budget's clock hand: clears the use flag and says whether it was set (a second chance). */
    boolean clearUsed() {
        if (used) {
            used = false;
            return true;
        }
        return false;
    }

    /**
     * Claims the segment for {@link #closeForBudget} if nobody uses its files; users arriving meanwhile wait for the
     * close and reopen. Called by the budget.
     */
    boolean claimForClosing() {
        return users.compareAndSet(0, -1);
    }

    /**
     * Closes the files and unmaps the indexes of a segment the budget claimed, keeping everything known about them
     * in memory; the next user reopens them. No force and no trim: the page cache keeps what was written, and the
     * next {@link #flush} reopens the files to force them if it must. Returns false if they were closed already
     * (the segment was closed for good meanwhile).
     */
    boolean closeForBudget() {
        try {
            synchronized (this) {
                FileChannel open = channel;
                if (open == null) {
                    return false;
                }
                channel = null;
                offsetIndex.release();
                timeIndex.release();
                open.close();
                return true;
            }
        } catch (IOException e) {
            LOG.warn("Cannot close {} for the open-file budget: {}", logFile, e.toString());
            return true;
        } finally {
            users.set(0);
        }
    }

    @Override
    public String toString() {
        return "LogSegment(" + logFile.getFileName() + ", size=" + size + ", next=" + nextOffset + ")";
    }
}
