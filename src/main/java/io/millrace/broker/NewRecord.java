package io.millrace.broker;

import io.millrace.record.Header;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A record to produce from a front-end that speaks records rather than batches (WebSocket, REST). Without a
 * partition it goes where its key hashes (Kafka's murmur2), or, without a key, to one partition per request.
 */
public record NewRecord(OptionalInt partition, byte[] key, byte[] value, List<Header> headers,
                        OptionalLong timestamp) {

    public NewRecord {
        headers = List.copyOf(headers);
    }
}
