package io.millrace.client;

import java.time.Duration;

/**
 * Consumer settings. Immutable: {@code with} methods return changed copies.
 *
 * @param maxBytesPerPush      most bytes the broker sends in one push per partition
 * @param maxCreditsPerRequest most records asked for at once per partition (larger demand is granted in steps); a
 *                             stream of several partitions asks each for this many, so it also bounds the records
 *                             held per partition for an application that reads slower than they come
 * @param reconnectAttempts    no longer limits anything: a partition stream and a group member retry retriable failures
 *                             (a lost connection, a moved leader or coordinator) until cancelled; kept so existing
 *                             configurations compile
 * @param reconnectBackoff     first pause before a partition stream subscribes again; it doubles with each failure in
 *                             a row, up to {@link ClientConfig#reconnectBackoffMax()}. A stream that the broker told
 *                             where the new leader is resubscribes there at once
 */
public record ConsumerConfig(int maxBytesPerPush, int maxCreditsPerRequest, int reconnectAttempts,
                             Duration reconnectBackoff) {

    public static ConsumerConfig defaults() {
        return new ConsumerConfig(1024 * 1024, 10_000, 20, Duration.ofMillis(200));
    }

    public ConsumerConfig withMaxBytesPerPush(int bytes) {
        return new ConsumerConfig(bytes, maxCreditsPerRequest, reconnectAttempts, reconnectBackoff);
    }

    public ConsumerConfig withMaxCreditsPerRequest(int credits) {
        return new ConsumerConfig(maxBytesPerPush, credits, reconnectAttempts, reconnectBackoff);
    }

    public ConsumerConfig withReconnect(int attempts, Duration backoff) {
        return new ConsumerConfig(maxBytesPerPush, maxCreditsPerRequest, attempts, backoff);
    }
}
