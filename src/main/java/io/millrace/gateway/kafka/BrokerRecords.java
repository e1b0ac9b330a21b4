package io.millrace.gateway.kafka;

import io.millrace.broker.FetchedRecords;
import org.apache.kafka.common.record.BaseRecords;
import org.apache.kafka.common.record.RecordsSend;

/**
 * A fetch answer's records as the broker returned them ({@link FetchedRecords}: a region of a segment file, or bytes
 * from another broker): a response counts their size, and {@link ResponseParts} has them sent in their place
 * ({@link FetchedRecords#sendTo}: {@code sendfile} for a file region) instead of copying them into the response's heap
 * buffer. Kafka's network layer is not used here, so {@link #toSend()} is never called.
 */
final class BrokerRecords implements BaseRecords {

    private final FetchedRecords records;

    BrokerRecords(FetchedRecords records) {
        this.records = records;
    }

    FetchedRecords records() {
        return records;
    }

    @Override
    public int sizeInBytes() {
        return records.sizeInBytes();
    }

    @Override
    public RecordsSend<? extends BaseRecords> toSend() {
        throw new UnsupportedOperationException("Broker records are sent by ResponseParts, not by Kafka's network"
                + " layer");
    }

    @Override
    public String toString() {
        return "BrokerRecords(" + records + ")";
    }
}
