package io.millrace.client;

/**
 * Where a sent record landed. {@code offset} is -1 when it is not known: with acks=0 (the broker does not answer), and
 * when an idempotent producer learns a batch was written only because the partition took a later one (the batch's own
 * answer was an error, such as a timeout after the append), as Kafka's producer reports a duplicate.
 */
public record RecordMetadata(String topic, int partition, long offset, long timestamp) {
}
