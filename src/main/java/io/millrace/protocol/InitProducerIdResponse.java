package io.millrace.protocol;

/**
 * A producer identity unique in the cluster: the producer stamps it, with its epoch and a sequence number per
 * partition, on every batch, so that a partition writes a retried batch only once.
 *
 * @param producerId    int64, never negative
 * @param producerEpoch int16
 */
public record InitProducerIdResponse(long producerId, short producerEpoch) implements Response {

    public InitProducerIdResponse {
        if (producerId < 0) {
            throw new IllegalArgumentException("producerId must not be negative, was " + producerId);
        }
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.INIT_PRODUCER_ID;
    }

    void write(WireWriter w) {
        w.int64(producerId);
        w.int16(producerEpoch);
    }

    static InitProducerIdResponse read(WireReader r) {
        long id = Require.nonNegative(r.int64("producerId"), "producerId");
        return new InitProducerIdResponse(id, r.int16("producerEpoch"));
    }
}
