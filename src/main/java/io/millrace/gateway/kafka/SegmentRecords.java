package io.millrace.gateway.kafka;

import io.millrace.storage.LogSlice;
import org.apache.kafka.common.record.BaseRecords;
import org.apache.kafka.common.record.RecordsSend;

/**
 * A fetch answer's records as the region of the segment file they are stored in: a response counts its size, and
 * {@link ResponseParts} sends it from the file ({@code sendfile}) instead of through the heap. Kafka's network layer
 * is not used here, so {@link #toSend()} is never called.
 */
final class SegmentRecords implements BaseRecords {

    private final LogSlice slice;

    SegmentRecords(LogSlice slice) {
        this.slice = slice;
    }

    LogSlice slice() {
        return slice;
    }

    @Override
    public int sizeInBytes() {
        return slice.sizeInBytes();
    }

    @Override
    public RecordsSend<? extends BaseRecords> toSend() {
        throw new UnsupportedOperationException("Segment records are sent by ResponseParts, not by Kafka's network"
                + " layer");
    }

    @Override
    public String toString() {
        return "SegmentRecords(" + slice + ")";
    }
}
