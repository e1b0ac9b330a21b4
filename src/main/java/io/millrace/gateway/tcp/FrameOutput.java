package io.millrace.gateway.tcp;

import io.millrace.broker.FetchedRecords;
import io.netty.buffer.Unpooled;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.NetSocket;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The outgoing byte stream of one connection: encoded frames and frame headers from the heap, record batches as the
 * broker returned them ({@link FetchedRecords}: straight from segment files with {@code sendfile}, or from memory when
 * they came from another broker), in exactly the order they are handed over.
 *
 * <p>Order is the whole point. Vert.x queues writes and file regions in call order, with one exception: a region of a
 * megabyte or more is split, and its later parts are queued only when the first part has been written, behind
 * anything written meanwhile. A frame header announcing N batch bytes followed by a response written in between would
 * corrupt the stream, so batches go to Vert.x in chunks of {@value #FILE_CHUNK_BYTES} bytes, each queued whole.
 *
 * <p>Bounded. Each {@code sendFile} holds an open file until its bytes are in the socket, and file regions do not
 * count towards the socket's write queue, so this class keeps its own queue: at most {@value #MAX_FILE_BYTES_IN_FLIGHT}
 * batch bytes are handed to Vert.x at a time; later chunks, and anything written after them, wait here (as a position
 * in the batches or a small heap buffer) until earlier chunks are sent. {@link #blocked()} is true while the socket's
 * write queue is full or {@value #MAX_QUEUED_FILE_BYTES} batch bytes or more wait; producers of output (subscriptions,
 * the request reader) hold off then and continue on {@code onWritable} (or the socket's drain). Batches in memory are
 * counted the same way: they hold no file, but the bound on what one connection keeps queued is the same.
 *
 * <p>Not thread-safe: only the connection's event loop calls it.
 */
final class FrameOutput {

    /** Bytes per {@code sendFile} call: under Vert.x's 1 MiB region split (see the class comment). */
    static final int FILE_CHUNK_BYTES = 512 * 1024;
    /** File bytes handed to Vert.x and not yet sent: enough to keep the socket's buffer full, few open files. */
    static final long MAX_FILE_BYTES_IN_FLIGHT = 2L * 1024 * 1024;
    /** File bytes waiting (here or in Vert.x) before {@link #blocked()} says stop producing output. */
    static final long MAX_QUEUED_FILE_BYTES = 4L * 1024 * 1024;

    private final NetSocket socket;
    private final Runnable onWritable;
    private final Consumer<Throwable> onBroken;
    /** Heap buffers and file chunks that must wait behind a chunk not yet handed to Vert.x, in order. */
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    private long fileBytesInFlight;
    private long fileBytesQueued;
    private boolean broken;

    /**
     * @param onWritable called when the queued file bytes fall below {@value #MAX_QUEUED_FILE_BYTES} again (the
     *                   socket's own drain is the caller's to watch)
     * @param onBroken   called once when a file region cannot be sent: the frame it belongs to is cut short, so the
     *                   stream is unusable and the caller must close the connection
     */
    FrameOutput(NetSocket socket, Runnable onWritable, Consumer<Throwable> onBroken) {
        this.socket = socket;
        this.onWritable = onWritable;
        this.onBroken = onBroken;
    }

    /** Queues {@code bytes} from position to limit; the buffer is handed over and must not change afterwards. */
    void write(ByteBuffer bytes) {
        if (waiting.isEmpty()) {
            // Wraps rather than copies: encoded frames are exact-size heap buffers nobody else holds.
            socket.write(BufferInternal.buffer(Unpooled.wrappedBuffer(bytes)));
        } else {
            waiting.add(bytes);
        }
    }

    /**
     * Queues the first {@code length} bytes of {@code records}: whole batches, zero copy from a segment file. The
     * caller has already written the frame header that counts them, and checked them {@link #readable}.
     */
    void sendBatches(FetchedRecords records, int length) {
        for (int at = 0; at < length; at += FILE_CHUNK_BYTES) {
            int chunk = Math.min(FILE_CHUNK_BYTES, length - at);
            fileBytesQueued += chunk;
            waiting.add(new BatchChunk(records, at, chunk));
        }
        flush();
    }

    /**
     * Whether the first {@code length} bytes of {@code records} can still be sent: a segment region's file still holds
     * the bytes it held when read ({@link FetchedRecords#isStillValid(int)}: not deleted, and not truncated or
     * recreated since, even if the file has grown back to the same length); batches in memory always can. Checked
     * before writing the header that announces them, because once the header is out other bytes corrupt the stream
     * (Vert.x sends what the file has and reports success). Retention may delete the segment between a read and this
     * check; then the caller leaves the batches out and the client's next read reports the offset as out of range.
     */
    static boolean readable(FetchedRecords records, int length) {
        return records.isStillValid(length);
    }

    /** Whether whoever produces output should wait: the socket's queue is full or too many file bytes wait. */
    boolean blocked() {
        return socket.writeQueueFull() || fileBytesQueued >= MAX_QUEUED_FILE_BYTES;
    }

    /** Hands waiting items to Vert.x in order, stopping at a chunk that would pass the in-flight limit. */
    private void flush() {
        while (!waiting.isEmpty() && !broken) {
            Object next = waiting.peek();
            if (next instanceof BatchChunk chunk) {
                if (fileBytesInFlight > 0 && fileBytesInFlight + chunk.length() > MAX_FILE_BYTES_IN_FLIGHT) {
                    return;
                }
                waiting.poll();
                fileBytesInFlight += chunk.length();
                // A segment that changed since the read fails the send before anything is queued; its header is out
                // already, so the connection cannot continue without these exact bytes (sent() reports it broken).
                chunk.records().sendTo(socket, chunk.from(), chunk.length())
                        .onComplete(result -> sent(chunk, result.cause()));
            } else {
                waiting.poll();
                socket.write(BufferInternal.buffer(Unpooled.wrappedBuffer((ByteBuffer) next)));
            }
        }
    }

    private void sent(BatchChunk chunk, Throwable failure) {
        boolean wasBlocked = fileBytesQueued >= MAX_QUEUED_FILE_BYTES;
        fileBytesInFlight -= chunk.length();
        fileBytesQueued -= chunk.length();
        if (failure != null) {
            if (!broken) {
                broken = true;
                waiting.clear();
                onBroken.accept(failure);
            }
            return;
        }
        flush();
        if (wasBlocked && fileBytesQueued < MAX_QUEUED_FILE_BYTES) {
            onWritable.run();
        }
    }

    /** Bytes {@code [from, from + length)} of {@code records}, to send with one {@link FetchedRecords#sendTo}. */
    private record BatchChunk(FetchedRecords records, int from, int length) {
    }
}
