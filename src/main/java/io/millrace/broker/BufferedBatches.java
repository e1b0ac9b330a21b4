package io.millrace.broker;

import io.millrace.record.CorruptRecordException;
import io.millrace.record.RecordBatch;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.NetSocket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * {@link FetchedRecords} held in memory: {@link FetchedRecords#of(Buffer, long, long)}. The buffer is shared, never
 * copied: reads get read-only views of it and sends write slices of it.
 */
final class BufferedBatches implements FetchedRecords {

    private final Buffer batches;
    /** A read-only view of {@code batches}, position 0, limit its length; duplicated for each reader. */
    private final ByteBuffer view;
    private final long firstOffset;
    private final long nextOffset;

    BufferedBatches(Buffer batches, long firstOffset, long nextOffset) {
        this.batches = Objects.requireNonNull(batches, "batches");
        this.view = ((BufferInternal) batches).getByteBuf().nioBuffer().asReadOnlyBuffer();
        this.firstOffset = firstOffset;
        this.nextOffset = nextOffset;
        checkBatches();
    }

    /** Walks the batch headers: whole batches that end at the buffer's end and span firstOffset..nextOffset. */
    private void checkBatches() {
        int size = view.remaining();
        if (size == 0) {
            if (nextOffset != firstOffset) {
                throw new CorruptRecordException("No batches, yet offsets " + firstOffset + ".." + nextOffset);
            }
            return;
        }
        long base = -1;
        long end = -1;
        int at = 0;
        while (at < size) {
            if (size - at < RecordBatch.HEADER_SIZE) {
                throw new CorruptRecordException("The batches end with " + (size - at) + " bytes, less than a batch"
                        + " header");
            }
            int batchSize = RecordBatch.LOG_OVERHEAD + view.getInt(at + RecordBatch.LENGTH_OFFSET);
            if (batchSize < RecordBatch.HEADER_SIZE || batchSize > size - at) {
                throw new CorruptRecordException("The batch at byte " + at + " declares " + batchSize + " bytes, of "
                        + (size - at) + " left");
            }
            long batchBase = view.getLong(at + RecordBatch.BASE_OFFSET_OFFSET);
            if (base < 0) {
                base = batchBase;
            }
            end = batchBase + view.getInt(at + RecordBatch.LAST_OFFSET_DELTA_OFFSET) + 1;
            at += batchSize;
        }
        if (base != firstOffset || end != nextOffset) {
            throw new CorruptRecordException("The batches hold offsets " + base + ".." + end + ", not " + firstOffset
                    + ".." + nextOffset);
        }
    }

    @Override
    public int sizeInBytes() {
        return view.remaining();
    }

    @Override
    public long firstOffset() {
        return firstOffset;
    }

    @Override
    public long nextOffset() {
        return nextOffset;
    }

    @Override
    public ByteBuffer readFully() {
        return view.duplicate();
    }

    @Override
    public FetchedRecords leadingBatchesBelow(long offsetLimit) {
        if (offsetLimit >= nextOffset) {
            return this;
        }
        // The constructor checked the framing, so every header read here lies inside the buffer. Offsets are dense:
        // once a batch ends at or past the limit, the next starts there.
        int at = 0;
        long next = firstOffset;
        while (at < view.remaining()) {
            next = view.getLong(at + RecordBatch.BASE_OFFSET_OFFSET)
                    + view.getInt(at + RecordBatch.LAST_OFFSET_DELTA_OFFSET) + 1;
            at += RecordBatch.LOG_OVERHEAD + view.getInt(at + RecordBatch.LENGTH_OFFSET);
            if (next >= offsetLimit) {
                break;
            }
        }
        return new BufferedBatches(batches.slice(0, at), firstOffset, next);
    }

    @Override
    public boolean isStillValid(int length) {
        return true;
    }

    @Override
    public Future<Void> sendTo(NetSocket socket, int from, int length) {
        if (from < 0 || length < 0 || from + length > view.remaining()) {
            return Future.failedFuture(new IOException("Bytes " + from + ".." + (from + length) + " lie outside the "
                    + view.remaining() + " bytes of batches"));
        }
        return length == 0 ? Future.succeededFuture() : socket.write(batches.slice(from, from + length));
    }

    @Override
    public String toString() {
        return "BufferedBatches(" + view.remaining() + " bytes, offsets " + firstOffset + ".." + nextOffset + ")";
    }
}
