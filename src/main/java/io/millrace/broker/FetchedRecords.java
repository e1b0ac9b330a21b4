package io.millrace.broker;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Whole record batches, back to back, as the broker API hands them to front-ends: the records of a
 * {@link FetchResult}. The batches are Apache Kafka's RecordBatch v2 bytes exactly as the partition stores them, so a
 * front-end sends them on unchanged or decodes them itself; the first batch may start before the offset asked for.
 *
 * <p>Two forms stand behind this one type, and a front-end needs to know neither:
 * <ul>
 *   <li><b>A region of a local segment file</b>, when this broker read the partition's log. The bytes stay in the file:
 *       {@link #sendTo} hands them to the socket with {@code sendFile} (zero copy), and only {@link #readFully} and
 *       {@link #read} copy them into the heap. The region describes the file as it was when read: retention may delete
 *       the segment and a follower truncating a divergent tail may rewrite it, so {@link #isStillValid} must be asked
 *       right before the bytes are announced to a client (a frame header that counts them), and {@link #sendTo} asks it
 *       again before each chunk it queues. Only the broker creates this form.</li>
 *   <li><b>Bytes in memory</b>, for batches that came from elsewhere, such as another broker answering a forwarded
 *       fetch: {@link #of(Buffer, long, long)}. Always valid; {@link #sendTo} writes a slice of the buffer,
 *       {@link #readFully} is a read-only view of it.</li>
 * </ul>
 *
 * <p><b>Positions</b> ({@link #isStillValid}, {@link #sendTo}) are relative to the batches: 0 is the
 * first byte of the first batch and {@link #sizeInBytes()} is one past the last byte of the last, whatever the form
 * (the file form adds its position in the segment file itself).
 *
 * <p>Immutable and thread-safe; {@link #sendTo} must run on the socket's event loop, as any write to it.
 */
public sealed interface FetchedRecords permits SegmentRegion, BufferedBatches {

    /**
     * Batches held in memory, e.g. what another broker read for a forwarded fetch. {@code batches} is taken over, not
     * copied: nobody may change it afterwards. Its framing is checked (each batch's length field, batch after batch,
     * ends exactly at the buffer's end) and the offsets must be those of its batches; CRCs are not checked (the
     * partition that stored the batches checked them).
     *
     * @param batches     zero or more whole batches, back to back
     * @param firstOffset the base offset of the first batch; for no batches, the offset that was asked for
     * @param nextOffset  one past the last offset of the last batch (its base offset plus its last offset delta plus
     *                    one); for no batches, {@code firstOffset}
     * @throws io.millrace.record.CorruptRecordException if the bytes are not whole batches or disagree with the offsets
     */
    static FetchedRecords of(Buffer batches, long firstOffset, long nextOffset) {
        return new BufferedBatches(batches, firstOffset, nextOffset);
    }

    /** No batches: what a read at {@code offset} returns when nothing is there yet. */
    static FetchedRecords empty(long offset) {
        return new BufferedBatches(Buffer.buffer(), offset, offset);
    }

    /** Bytes of whole batches; 0 when there was nothing to read. */
    int sizeInBytes();

    /** Base offset of the first batch (the offset asked for may lie inside it); the offset asked for when empty. */
    long firstOffset();

    /** The offset to read next: one past the last record of the last batch. */
    long nextOffset();

    default boolean isEmpty() {
        return sizeInBytes() == 0;
    }

    /**
     * All the batches as a heap buffer (position 0, limit {@link #sizeInBytes()}), for readers that must look inside
     * them. The file form reads the region into a new buffer on every call; the memory form returns a read-only view
     * of its bytes, without copying them.
     *
     * @throws java.io.UncheckedIOException if the file form's segment cannot be read (deleted, or the log closed)
     */
    ByteBuffer readFully();

    /**
     * The leading batches whose base offsets lie below {@code offsetLimit}: at least the first batch, and these
     * batches themselves when all do. For a front-end whose subscriber's credit ends inside the batches: with
     * {@code firstOffset() + credit} as the limit, a batch is taken while the credit left before it is at least 1. The
     * file form reads a header or two from its segment, whatever the number of batches; the memory form walks its
     * headers in memory and shares its bytes.
     *
     * @throws IOException if the file form's segment no longer holds the batches that were read, or cannot be read
     */
    FetchedRecords leadingBatchesBelow(long offsetLimit) throws IOException;

    /**
     * Whether the first {@code length} bytes still hold the batches that were read. The file form checks that its
     * segment was neither deleted nor truncated since the read (a truncation rewrites the file under the same name,
     * so a size check alone would not do) and is long enough; the memory form is always valid. Ask it right before
     * announcing the bytes to a client: once a header that counts them is out, other bytes would corrupt the stream.
     */
    boolean isStillValid(int length);

    /**
     * Queues bytes {@code [from, from + length)} on {@code socket}, behind whatever was written to it before and ahead
     * of whatever is written after this call: the file form as file regions ({@code sendfile}) of at most 512 KiB
     * (Vert.x's {@code sendFile}, used on TLS sockets, splits a larger region and would queue its tail behind later
     * writes), each checked with {@link #isStillValid} as it is queued; the memory form as one write of a slice of its
     * buffer. Call it on the socket's event loop.
     *
     * @return completes when every byte is written; fails if the file form's segment changed before a chunk could be
     *         queued (an {@link IOException}; chunks before it are queued) or a write fails. Either way the stream is
     *         cut short inside a frame, so the caller must close the connection.
     */
    Future<Void> sendTo(NetSocket socket, int from, int length);
}
