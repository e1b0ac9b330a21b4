package io.millrace.client;

import io.millrace.record.Header;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A record to send. Without a partition it goes where its key hashes (murmur2, exactly as Apache Kafka's default
 * partitioner), or, without a key, to a partition chosen per batch ("sticky"). Without a timestamp it gets the
 * producer's clock.
 */
public record ProducerRecord(String topic, OptionalInt partition, byte[] key, byte[] value, List<Header> headers,
                             OptionalLong timestamp) {

    public ProducerRecord {
        if (topic == null || topic.isEmpty()) {
            throw new IllegalArgumentException("A record needs a topic");
        }
        headers = List.copyOf(headers);
    }

    public static ProducerRecord of(String topic, byte[] key, byte[] value) {
        return new ProducerRecord(topic, OptionalInt.empty(), key, value, List.of(), OptionalLong.empty());
    }

    /** A record with UTF-8 text key (may be null) and value. */
    public static ProducerRecord of(String topic, String key, String value) {
        return of(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    public ProducerRecord withPartition(int partition) {
        return new ProducerRecord(topic, OptionalInt.of(partition), key, value, headers, timestamp);
    }

    public ProducerRecord withHeaders(List<Header> headers) {
        return new ProducerRecord(topic, partition, key, value, headers, timestamp);
    }

    public ProducerRecord withTimestamp(long epochMillis) {
        return new ProducerRecord(topic, partition, key, value, headers, OptionalLong.of(epochMillis));
    }

    /** Bytes this record takes in a batch, approximately (for buffer and batch size accounting). */
    int estimatedSize() {
        int size = 24 + (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        for (Header h : headers) {
            size += 8 + h.key().length() * 3 + (h.value() == null ? 0 : h.value().length);
        }
        return size;
    }
}
