package io.millrace.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A sorted, append-only file of fixed-size entries, memory-mapped. The file is pre-allocated to its maximum size
 * while the segment is active and trimmed to its entries when the segment is rolled or the log is closed, so after an
 * unclean stop the active segment's index may end in zeros; recovery rebuilds it then.
 *
 * <p>Entries are found by binary search on a key the subclass defines. Not thread-safe: only the owning log's thread
 * calls it, except {@link #flush}, which a flush thread may call at any time. Remapping, closing and flushing hold the
 * monitor, because touching a buffer after it was unmapped crashes the JVM rather than throwing.
 *
 * <p>The {@link OpenFileBudget} may {@link #release} the file and its mapping while the segment is idle; the entry
 * count and the mapped length stay in memory, and {@link #reopen} maps the file again at that length (the
 * pre-allocated size of an active segment's index), without reading it. Only {@link #entries}, {@link #isFull} and
 * {@link #foundOnDisk} may be called while released: {@link LogSegment} reopens its indexes before any other use.
 *
 * <p>The file is sparse, and a store through the mapping into a hole the kernel cannot back (a full disk) is a SIGBUS,
 * which the JVM raises as an {@link InternalError} at some later instruction, after the state it left half-changed.
 * So an entry that is the first to touch a page is written with a positional write to the file instead, which the
 * mapping sees at once (one page cache) and which fails with an {@link UncheckedIOException}; once that page is
 * backed, the entries after it in the page are stored through the mapping, without a system call. An entry counts
 * only once it is written. Reads go
 * through the mapping, via {@link #readInt} and {@link #readLong}; a page that is gone (the file cut short underneath,
 * an I/O error) still faults, and they turn a fault they see into an {@link UncheckedIOException}. A fault the JVM
 * reports late, in compiled code, surfaces as an {@code InternalError} further up, where {@link PartitionLog} and
 * the partition verticle turn it into a storage error of the one request that caused it.
 */
abstract class MappedIndex implements AutoCloseable {

    /** The unit in which the kernel backs a mapping with memory or disk blocks (the page size of x86 and most ARM). */
    private static final int PAGE_BYTES = 4096;

    private final Path path;
    private final int entrySize;
    private final int maxEntries;
    /** Null while released. */
    private FileChannel channel;
    /** Null while released. */
    private MappedByteBuffer mmap;
    /** The file's length as last resized, which a reopened index is mapped at again. */
    private long mappedLength;
    private int entries;
    private final boolean foundOnDisk;
    private final boolean foundWholeEntries;

    /**
     * Opens or creates the index. An existing file's length decides how many entries it holds; a corrupt index is
     * detected by {@link #sanityCheck} and rebuilt by the caller.
     */
    MappedIndex(Path path, int entrySize, int maxIndexBytes) {
        this.path = path;
        this.entrySize = entrySize;
        this.maxEntries = Math.max(1, maxIndexBytes / entrySize);
        boolean existed = Files.exists(path);
        this.foundOnDisk = existed;
        try {
            channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            long length = channel.size();
            entries = existed ? (int) Math.min(length / entrySize, maxEntries) : 0;
            foundWholeEntries = length % entrySize == 0;
            map(Math.max(length, (long) maxEntries * entrySize));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot open index " + path, e);
        }
    }

    /** Whether the file existed before this object opened it; a missing index must be rebuilt, not trusted empty. */
    final boolean foundOnDisk() {
        return foundOnDisk;
    }

    /** Whether the file's length was a multiple of the entry size when opened, which Kafka's sanity check demands. */
    final boolean foundWholeEntries() {
        return foundWholeEntries;
    }

    final Path path() {
        return path;
    }

    final int entries() {
        return entries;
    }

    final boolean isFull() {
        return entries >= maxEntries;
    }

    final int entrySize() {
        return entrySize;
    }

    /** Byte position of entry {@code n}. */
    final int slot(int n) {
        return n * entrySize;
    }

    private int nextSlot() {
        if (isFull()) {
            throw new IllegalStateException("Index " + path + " is full (" + entries + " entries)");
        }
        return slot(entries);
    }

    /** Writes {@code entry} (position to limit, {@link #entrySize} bytes) as the next entry, then counts it. */
    final void appendEntry(ByteBuffer entry) {
        int slot = nextSlot();
        int lastByte = slot + entrySize - 1;
        boolean firstInItsPage = slot == 0 || (slot - 1) / PAGE_BYTES != lastByte / PAGE_BYTES;
        if (!firstInItsPage) {
            mmap.put(slot, entry, entry.position(), entry.remaining());
            entries++;
            return;
        }
        try {
            while (entry.hasRemaining()) {
                channel.write(entry, slot + entry.position());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write an entry of index " + path, e);
        }
        entries++;
    }

    final int readInt(int position) {
        try {
            return mmap.getInt(position);
        } catch (InternalError e) {
            throw readFault(e);
        }
    }

    final long readLong(int position) {
        try {
            return mmap.getLong(position);
        } catch (InternalError e) {
            throw readFault(e);
        }
    }

    private UncheckedIOException readFault(InternalError e) {
        return mappedFileFault("read the memory-mapped index " + path, e);
    }

    /**
     * The I/O error to report for a fault on a memory-mapped file, which the JVM raises as an {@link InternalError}.
     */
    static UncheckedIOException mappedFileFault(String what, InternalError e) {
        return new UncheckedIOException(new IOException("Cannot " + what + " (a memory-mapped page could not be read:"
                + " the file was cut short or the device failed): " + e.getMessage(), e));
    }

    /** Drops every entry from {@code n} on. */
    final void truncateToEntries(int n) {
        entries = Math.max(0, Math.min(entries, n));
    }

    /**
     * The index of the last entry whose key is at most {@code target} (strictly less when {@code strict}), or -1.
     */
    final int floorEntry(long target, boolean strict) {
        int lo = 0;
        int hi = entries - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long key = keyAt(mid);
            if (key < target || (!strict && key == target)) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** The search key of entry {@code n}. */
    abstract long keyAt(int n);

    /** Empties the index. */
    final void reset() {
        entries = 0;
    }

    /** Cuts the file to exactly its entries, so that its length tells their number on the next open. */
    final void trimToEntries() {
        resize((long) entries * entrySize);
    }

    /** Whether the file holds exactly its entries (as {@link #trimToEntries} leaves it). */
    final boolean isTrimmed() {
        return mappedLength == (long) entries * entrySize;
    }

    /** Grows the file back to its maximum size so that entries can be appended again. */
    final void growToMax() {
        resize((long) maxEntries * entrySize);
    }

    private synchronized void resize(long length) {
        try {
            if (channel.size() == length) {
                return;
            }
            // No force here: dirty pages outlive the mapping in the page cache, and whoever needs the index on disk
            // (a roll's flush, close) forces it afterwards, off the owner's event loop.
            unmap(mmap);
            mmap = null;
            channel.truncate(Math.min(length, channel.size()));
            map(length);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot resize index " + path, e);
        }
    }

    private void map(long length) throws IOException {
        if (channel.size() < length) {
            // Extend sparsely: writing one byte at the end allocates no blocks for the hole on common file systems.
            channel.write(ByteBuffer.allocate(1), length - 1);
        }
        mmap = channel.map(FileChannel.MapMode.READ_WRITE, 0, length);
        mappedLength = length;
    }

    /**
     * Unmaps the index and closes its file, leaving both as they are (untrimmed, unforced: the page cache keeps what
     * was written); the caller guarantees that nobody uses the index until {@link #reopen}.
     */
    final synchronized void release() throws IOException {
        unmap(mmap);
        mmap = null;
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }

    /** Opens and maps the file again, at the length it had when released. */
    final synchronized void reopen() throws IOException {
        if (channel != null) {
            return;
        }
        // No CREATE: a file gone meanwhile was deleted with its segment, and must not come back empty.
        channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            map(mappedLength);
        } catch (IOException | RuntimeException e) {
            channel.close();
            channel = null;
            throw e;
        }
    }

    /** Writes dirty pages to disk; safe to call from another thread than the writer. */
    final synchronized void flush() {
        MappedByteBuffer m = mmap;
        if (m != null) {
            m.force();
        }
    }

    /**
     * Trims the file to its entries, forces it and releases it. A released index that is already trimmed is left as
     * it is: whoever wrote it since it was last forced ({@link LogSegment#flush}) forces it before closing.
     */
    @Override
    public synchronized void close() {
        try {
            if (channel != null || !isTrimmed()) {
                reopen();
                trimToEntries();
                flush();
            }
            release();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot close index " + path, e);
        }
    }

    /** Releases the mapping and the file as they are, untrimmed (crash simulation). */
    final synchronized void abandon() {
        try {
            release();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot release index " + path, e);
        }
    }

    /** Closes the index and deletes its file. */
    final synchronized void delete() {
        try {
            release();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot delete index " + path, e);
        }
    }

    private static final Method INVOKE_CLEANER;
    private static final Object UNSAFE;

    static {
        Method invoke = null;
        Object unsafe = null;
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field field = unsafeClass.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            unsafe = field.get(null);
            invoke = unsafeClass.getMethod("invokeCleaner", java.nio.ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // Without it, mappings are released by the garbage collector instead: correct, only later.
        }
        INVOKE_CLEANER = invoke;
        UNSAFE = unsafe;
    }

    /**
     * Releases a mapping now rather than at the next GC, so that deleted index files free their disk space at once.
     * The JDK offers no public API for this; the buffer must never be touched afterwards.
     */
    private static void unmap(MappedByteBuffer buffer) {
        if (buffer == null || INVOKE_CLEANER == null) {
            return;
        }
        try {
            INVOKE_CLEANER.invoke(UNSAFE, buffer);
        } catch (ReflectiveOperationException e) {
            // Fall back to the garbage collector.
        }
    }
}
