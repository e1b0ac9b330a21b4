package io.millrace.protocol;

import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The batches a {@link FetchRequest} read, per partition. A server that sends batches straight from log files
 * encodes only the fields around them with {@link FrameCodec#encodeFetchResponseHeaders}.
 *
 * @param partitions one entry per partition of the request
 */
public record FetchResponse(List<PartitionData> partitions) implements Response {

    public FetchResponse {
        partitions = Require.list(partitions, "partitions");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.FETCH;
    }

    /**
     * One partition's data.
     *
     * @param partition      >= 0
     * @param error          why the partition could not be read (for example {@code OFFSET_OUT_OF_RANGE}), or empty
     * @param highWatermark  offsets below it are committed; -1 on error
     * @param logStartOffset the first offset still in the log; -1 on error
     * @param batches        whole record batches back to back, possibly none; the first may start before the offset
     *                       asked for. A decoded response holds a slice of the frame; the accessor returns a
     *                       duplicate, so reading it never moves this record's position.
     */
    public record PartitionData(int partition, Optional<ApiError> error, long highWatermark, long logStartOffset,
                                ByteBuffer batches) {

        public PartitionData {
            Require.nonNegative(partition, "partition");
            Objects.requireNonNull(error, "error");
            batches = Objects.requireNonNull(batches, "batches").slice();
        }

        /** A partition that could not be read: no batches, offsets -1. */
        public static PartitionData failure(int partition, ApiError error) {
            return new PartitionData(partition, Optional.of(error), -1L, -1L, ByteBuffer.allocate(0));
        }

        @Override
        public ByteBuffer batches() {
            return batches.duplicate();
        }

        /**
         * The batches as views sharing these bytes; CRCs are not checked.
         *
         * @throws io.millrace.record.CorruptRecordException if the bytes are not whole batches
         */
        public List<RecordBatch> recordBatches() {
            return RecordBatches.split(batches);
        }

        /** The fields of this partition with only the length of its batches. */
        public PartitionHeader header() {
            return new PartitionHeader(partition, error, highWatermark, logStartOffset, batches.remaining());
        }
    }

    /**
     * The fields of one partition's entry without its batches, for
     * {@link FrameCodec#encodeFetchResponseHeaders}: the caller sends the {@code batchesLength} bytes itself.
     *
     * @param partition      >= 0
     * @param error          as in {@link PartitionData}
     * @param highWatermark  as in {@link PartitionData}
     * @param logStartOffset as in {@link PartitionData}
     * @param batchesLength  the number of batch bytes the caller sends after this entry's header, >= 0
     */
    public record PartitionHeader(int partition, Optional<ApiError> error, long highWatermark, long logStartOffset,
                                  int batchesLength) {

        public PartitionHeader {
            Require.nonNegative(partition, "partition");
            Objects.requireNonNull(error, "error");
            Require.nonNegative(batchesLength, "batchesLength");
        }

        /** Every field up to and including the batches' length field. */
        void write(WireWriter w) {
            w.int32(partition);
            w.error(error);
            w.int64(highWatermark);
            w.int64(logStartOffset);
            w.bytesLength(batchesLength);
        }
    }

    void write(WireWriter w) {
        w.count(partitions.size());
        for (PartitionData p : partitions) {
            p.header().write(w);
            w.raw(p.batches);
        }
    }

    static FetchResponse read(WireReader r) {
        int n = r.count("partitions", 28);
        List<PartitionData> partitions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            partitions.add(new PartitionData(r.int32("partition"), r.error("error"), r.int64("highWatermark"),
                    r.int64("logStartOffset"), r.bytes("batches")));
        }
        return new FetchResponse(partitions);
    }
}
