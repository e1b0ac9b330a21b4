package io.millrace.client;

import io.millrace.record.Header;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A record read from a partition. Key and value are {@code null} when the producer sent none.
 */
public record ConsumerRecord(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value,
                             List<Header> headers) {

    public String keyAsString() {
        return key == null ? null : new String(key, StandardCharsets.UTF_8);
    }

    public String valueAsString() {
        return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return topic + "-" + partition + "@" + offset + " key=" + keyAsString() + " value=" + valueAsString();
    }
}
