package io.millrace.gateway.framing;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.function.IntConsumer;

/**
 * Cuts a byte stream into records whose size the reader is told before each one (fixed-size mode, as Vert.x's
 * {@code RecordParser}), copying each byte of the stream's chunks once: a record is an array of exactly its size,
 * allocated when its first byte arrives, and the chunks are copied straight into it. The native TCP gateway and the
 * Kafka listener, whose frames are both a 4-byte size and a body, alternate between the two. ({@code RecordParser}
 * grows and compacts a buffer of its own and copies each record out of it twice more.)
 *
 * <p>Each record is handed out as a {@link ByteBuffer} over an array of its own (position 0, limit the record's size)
 * that the reader never touches again: the receiver may decode it in place, write into it and keep slices of it.
 * When a chunk holds several records, they are handed out one after the other before the call returns.
 *
 * <p>{@link #pause()} stops handing out records at once, even those already received, and pauses the stream so that
 * the kernel pushes back on the peer; the rest of the chunk being read is kept. {@link #resume()} first hands out what
 * is already received, for as long as the record handler does not pause again, and then resumes the stream.
 *
 * <p>When the stream ends, the end handler is called once, after every whole record received is handed out (so not
 * while paused), with the number of bytes received of the record the stream ended inside, which are dropped: 0 when
 * the stream ended between records.
 *
 * <p>{@link #recordStartHandler} is told when the first byte of each record is taken in, so that a caller can put a
 * deadline on the rest of it.
 *
 * <p>Not thread-safe: the stream's context calls it. The record and end handlers may call {@link #pause()},
 * {@link #resume()} and {@link #fixedSizeMode(int)}, and close the stream, while they run.
 */
public final class FrameReader {

    private final ReadStream<Buffer> stream;
    private final Handler<ByteBuffer> recordHandler;
    private final IntConsumer endHandler;
    private Runnable recordStartHandler = () -> { };
    /** Chunks received and not copied out yet, oldest first; the first is read from {@link #chunkPosition} on. */
    private final ArrayDeque<Buffer> chunks = new ArrayDeque<>();
    private int chunkPosition;
    private int size;
    /** The record being filled; null until its first byte arrives. */
    private byte[] record;
    private int filled;
    private boolean paused;
    private boolean streamPaused;
    private boolean draining;
    private boolean ended;
    private boolean endReported;

    /**
     * A reader of {@code stream}, which it takes over at {@link #start()}.
     *
     * @param size the size of the first record
     * @param recordHandler called with each record
     * @param endHandler called once when the stream ends, with the number of bytes of the unfinished record
     */
    public FrameReader(ReadStream<Buffer> stream, int size, Handler<ByteBuffer> recordHandler, IntConsumer endHandler) {
        this.stream = stream;
        this.recordHandler = recordHandler;
        this.endHandler = endHandler;
        fixedSizeMode(size);
    }

    /** Sets the stream's data and end handlers; the caller keeps its exception handler. */
    public void start() {
        stream.endHandler(v -> {
            ended = true;
            drain();
        });
        stream.handler(this::receive);
    }

    /** Sets what to call when the first byte of a record is taken in (not for records of a stream that ended). */
    public void recordStartHandler(Runnable handler) {
        this.recordStartHandler = handler;
    }

    /**
     * Sets the size of the next record.
     *
     * @throws IllegalStateException when part of a record is already read; the record handler is always called
     *                               between records
     */
    public void fixedSizeMode(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("A record size must be positive, not " + size);
        }
        if (filled > 0) {
            throw new IllegalStateException("Cannot change the record size after " + filled + " of the " + this.size
                    + " bytes of a record are read");
        }
        this.size = size;
    }

    /** Hands out no more records, and pauses the stream, until {@link #resume()}. */
    public void pause() {
        paused = true;
        if (!streamPaused) {
            streamPaused = true;
            stream.pause();
        }
    }

    /** Hands out the records already received while not paused again, then resumes the stream. */
    public void resume() {
        paused = false;
        drain();
    }

    private void receive(Buffer chunk) {
        if (chunk.length() > 0) {
            chunks.addLast(chunk);
        }
        drain();
    }

    private void drain() {
        if (draining) {
            // A handler resumed, or the stream delivered, while a record was being handed out: that loop goes on.
            return;
        }
        draining = true;
        try {
            while (!paused && !chunks.isEmpty()) {
                Buffer chunk = chunks.peekFirst();
                int n = Math.min(chunk.length() - chunkPosition, size - filled);
                if (record == null) {
                    record = new byte[size];
                    recordStartHandler.run();
                }
                chunk.getBytes(chunkPosition, chunkPosition + n, record, filled);
                filled += n;
                chunkPosition += n;
                if (chunkPosition == chunk.length()) {
                    chunks.removeFirst();
                    chunkPosition = 0;
                }
                if (filled == size) {
                    byte[] complete = record;
                    record = null;
                    filled = 0;
                    recordHandler.handle(ByteBuffer.wrap(complete));
                }
            }
            if (ended && !paused && !endReported && chunks.isEmpty()) {
                endReported = true;
                int unfinished = filled;
                record = null;
                filled = 0;
                endHandler.accept(unfinished);
            }
        } finally {
            draining = false;
            if (!paused && streamPaused) {
                streamPaused = false;
                stream.resume();
            }
        }
    }
}
