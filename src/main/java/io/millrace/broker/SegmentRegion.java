package io.millrace.broker;

import io.millrace.storage.LogSlice;
import io.netty.channel.DefaultFileRegion;
import io.vertx.core.Future;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * {@link FetchedRecords} as a region of a local segment file: the {@link LogSlice} a partition's read returned. The
 * broker creates it from a partition's answer; front-ends see only the interface.
 */
final class SegmentRegion implements FetchedRecords {

    /**
     * Bytes per file region: each chunk is checked {@link LogSlice#isStillValid(int) valid} as it is queued, and stays
     * under the 1 MiB from which Vert.x's {@code sendFile} (still used on TLS sockets) splits a region and queues its
     * tail behind later writes.
     */
    static final int SEND_CHUNK_BYTES = 512 * 1024;

    private final LogSlice slice;

    SegmentRegion(LogSlice slice) {
        this.slice = Objects.requireNonNull(slice, "slice");
    }

    @Override
    public int sizeInBytes() {
        return slice.sizeInBytes();
    }

    @Override
    public long firstOffset() {
        return slice.firstOffset();
    }

    @Override
    public long nextOffset() {
        return slice.nextOffset();
    }

    @Override
    public ByteBuffer readFully() {
        return slice.readFully();
    }

    @Override
    public FetchedRecords leadingBatchesBelow(long offsetLimit) throws IOException {
        LogSlice leading = slice.leadingBatchesBelow(offsetLimit);
        return leading == slice ? this : new SegmentRegion(leading);
    }

    @Override
    public boolean isStillValid(int length) {
        return slice.isStillValid(length);
    }

    @Override
    public Future<Void> sendTo(NetSocket socket, int from, int length) {
        if (from < 0 || length < 0 || from + length > slice.sizeInBytes()) {
            return Future.failedFuture(new IOException("Bytes " + from + ".." + (from + length)
                    + " lie outside the region " + slice));
        }
        if (length == 0) {
            return Future.succeededFuture();
        }
        List<Future<Void>> sent = new ArrayList<>((length + SEND_CHUNK_BYTES - 1) / SEND_CHUNK_BYTES);
        for (int at = from; at < from + length; at += SEND_CHUNK_BYTES) {
            int chunk = Math.min(SEND_CHUNK_BYTES, from + length - at);
            if (!slice.isStillValid(at + chunk)) {
                sent.add(Future.failedFuture(new IOException("Segment " + slice.file() + " changed (truncated or"
                        + " deleted) before its batches were sent")));
                break;
            }
            sent.add(sendChunk(socket, slice.position() + at, chunk));
        }
        return sent.size() == 1 ? sent.get(0) : Future.all(sent).mapEmpty();
    }

    /**
     * Queues {@code length} bytes of the segment file from {@code position} as a Netty file region over a file channel
     * of the chunk's own, which Netty closes once the region is written or dropped. Not the segment's channel:
     * retention may delete the segment, closing that channel, while the chunk waits in the socket's queue, and an
     * open file stays readable after its name is gone. Not {@link NetSocket#sendFile(String, long, long)} either,
     * which resolves the path and asks the file's length twice for every chunk (about 5 % of a fast reader's event
     * loop, perf); it remains for a TLS socket, which cannot send a file region as it is.
     */
    private Future<Void> sendChunk(NetSocket socket, long position, int length) {
        if (!(socket instanceof NetSocketInternal connection) || socket.isSsl()) {
            return socket.sendFile(slice.file().toAbsolutePath().toString(), position, length);
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(slice.file(), StandardOpenOption.READ);
        } catch (IOException e) {
            return Future.failedFuture(e);
        }
        return connection.writeMessage(new DefaultFileRegion(channel, position, length))
                .onFailure(e -> closeQuietly(channel));
    }

    /** For a region Vert.x refused before Netty owned it; closing a channel Netty closed already does nothing. */
    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing was written through it: nothing to lose.
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SegmentRegion other && slice.equals(other.slice);
    }

    @Override
    public int hashCode() {
        return slice.hashCode();
    }

    @Override
    public String toString() {
        return "SegmentRegion(" + slice + ")";
    }
}
