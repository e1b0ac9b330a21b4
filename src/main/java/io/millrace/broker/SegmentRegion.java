package io.millrace.broker;

import io.millrace.storage.LogSlice;
import io.vertx.core.Future;
import io.vertx.core.net.NetSocket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * {@link FetchedRecords} as a region of a local segment file: the {@link LogSlice} a partition's read returned. The
 * broker creates it from a partition's answer; front-ends see only the interface.
 */
final class SegmentRegion implements FetchedRecords {

    /** Bytes per {@code sendFile}: under the 1 MiB from which Vert.x splits a region (see {@link #sendTo}). */
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
    public void read(ByteBuffer dst, int at) throws IOException {
        slice.read(dst, slice.position() + at);
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
        String file = slice.file().toAbsolutePath().toString();
        List<Future<Void>> sent = new ArrayList<>((length + SEND_CHUNK_BYTES - 1) / SEND_CHUNK_BYTES);
        for (int at = from; at < from + length; at += SEND_CHUNK_BYTES) {
            int chunk = Math.min(SEND_CHUNK_BYTES, from + length - at);
            if (!slice.isStillValid(at + chunk)) {
                sent.add(Future.failedFuture(new IOException("Segment " + file + " changed (truncated or deleted)"
                        + " before its batches were sent")));
                break;
            }
            sent.add(socket.sendFile(file, slice.position() + at, chunk));
        }
        return sent.size() == 1 ? sent.get(0) : Future.all(sent).mapEmpty();
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
