package io.millrace.broker;

/** Where one produced record landed ({@code offset} -1 with acks=0). */
public record RecordMetadata(String topic, int partition, long offset, long timestamp) {
}
