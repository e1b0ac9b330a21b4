package io.millrace.client;

/** Where a sent record landed; {@code offset} is -1 with acks=0 (the broker does not answer). */
public record RecordMetadata(String topic, int partition, long offset, long timestamp) {
}
