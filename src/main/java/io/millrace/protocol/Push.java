package io.millrace.protocol;

import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Record batches the server sends unasked for a subscription, under the subscription id as correlation id. A push
 * with an error ends the subscription: the server forgets it, and the client may subscribe again (for example after
 * refreshing metadata on {@code NOT_LEADER}). A server sending batches from log files encodes only the fields before
 * them with {@link FrameCodec#encodePushHeader}.
 *
 * @param topic         not null
 * @param partition     >= 0
 * @param highWatermark the partition's high watermark when the push was made; -1 on error
 * @param error         why the subscription ended, or empty
 * @param batches       whole record batches back to back, possibly none (a push may only report a new high
 *                      watermark, or an error). Their record counts were taken from the subscription's credit.
 *                      A decoded push holds a slice of the frame; the accessor returns a duplicate.
 */
public record Push(String topic, int partition, long highWatermark, Optional<ApiError> error, ByteBuffer batches)
        implements Message {

    public Push {
        Objects.requireNonNull(topic, "topic");
        Require.nonNegative(partition, "partition");
        Objects.requireNonNull(error, "error");
        batches = Objects.requireNonNull(batches, "batches").slice();
    }

    /** Batches for a subscription. */
    public static Push of(String topic, int partition, long highWatermark, ByteBuffer batches) {
        return new Push(topic, partition, highWatermark, Optional.empty(), batches);
    }

    /** The end of a subscription. */
    public static Push failure(String topic, int partition, ApiError error) {
        return new Push(topic, partition, -1L, Optional.of(error), ByteBuffer.allocate(0));
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.PUSH;
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

    /** Every field before the batches' content, that is up to and including the batches' length field. */
    static void writeHeader(WireWriter w, String topic, int partition, long highWatermark, Optional<ApiError> error,
            int batchesLength) {
        w.string(topic);
        w.int32(partition);
        w.int64(highWatermark);
        w.error(error);
        w.bytesLength(batchesLength);
    }

    void write(WireWriter w) {
        writeHeader(w, topic, partition, highWatermark, error, batches.remaining());
        w.raw(batches);
    }

    static Push read(WireReader r) {
        return new Push(r.string("topic"), r.int32("partition"), r.int64("highWatermark"), r.error("error"),
                r.bytes("batches"));
    }
}
