package io.millrace.client;

import io.millrace.common.ErrorCode;
import io.millrace.record.CompressionType;
import java.time.Duration;
import java.util.Objects;

/**
 * Producer settings, named and defaulted as Apache Kafka's producer. Immutable: {@code with} methods return copies.
 *
 * @param acks              0 (fire and forget), 1 (leader wrote it) or -1 (all in-sync replicas have it)
 * @param batchSize         a partition's batch is sent once it reaches this many bytes ({@code batch.size})
 * @param linger            or once its first record waited this long ({@code linger.ms})
 * @param bufferMemory      bytes of records the producer holds before {@code send} waits ({@code buffer.memory})
 * @param maxBlock          how long a send may wait for buffer space before failing ({@code max.block.ms})
 * @param deliveryTimeout   how long a record may take, retries included, before failing
 * @param retryBackoff      pause before the first retry of a failed batch ({@code retry.backoff.ms})
 * @param retryBackoffMax   the pause doubles with each failed round up to this ({@code retry.backoff.max.ms}, 1 s as
 *                          Kafka's): short enough that a producer finds a new leader soon after a failover
 * @param maxInFlight       batches per partition sent and not yet answered ({@code max.in.flight...}, at most 5)
 * @param idempotence       stamp batches with a producer id and sequence so retries never duplicate (default on)
 * @param compression       the codec of each batch's records ({@code compression.type}): NONE, GZIP, SNAPPY, LZ4 or
 *                          ZSTD, written as Kafka's producer writes them; SNAPPY, LZ4 and ZSTD need their library on
 *                          the class path ({@link CompressionType#library()}), else the config is refused with
 *                          UNSUPPORTED_COMPRESSION
 * @param maxRequestSize    largest batch sent ({@code max.request.size})
 */
public record ProducerConfig(int acks, int batchSize, Duration linger, long bufferMemory, Duration maxBlock,
                             Duration deliveryTimeout, Duration retryBackoff, Duration retryBackoffMax, int maxInFlight, boolean idempotence,
                             CompressionType compression, int maxRequestSize) {

    public ProducerConfig {
        if (acks != 0 && acks != 1 && acks != -1) {
            throw new IllegalArgumentException("acks must be 0, 1 or -1 (all), was " + acks);
        }
        if (maxInFlight < 1 || maxInFlight > 5) {
            throw new IllegalArgumentException("maxInFlight must be between 1 and 5, was " + maxInFlight);
        }
        if (batchSize < 1 || maxRequestSize < 64 || bufferMemory < maxRequestSize) {
            throw new IllegalArgumentException("batchSize must be positive and bufferMemory >= maxRequestSize");
        }
        if (!Objects.requireNonNull(compression, "compression").isSupported()) {
            throw new MillraceClientException(ErrorCode.UNSUPPORTED_COMPRESSION, "Compression " + compression
                    + " needs " + compression.library() + " on the class path; add it or choose another codec");
        }
    }

    public static ProducerConfig defaults() {
        return new ProducerConfig(-1, 16 * 1024, Duration.ofMillis(5), 32L * 1024 * 1024, Duration.ofSeconds(60),
                Duration.ofMinutes(2), Duration.ofMillis(100), Duration.ofSeconds(1), 5, true, CompressionType.NONE, 1024 * 1024);
    }

    public ProducerConfig withAcks(int acks) {
        return new ProducerConfig(acks, batchSize, linger, bufferMemory, maxBlock, deliveryTimeout, retryBackoff, retryBackoffMax,
                maxInFlight, idempotence, compression, maxRequestSize);
    }

    public ProducerConfig withBatchSize(int bytes) {
        return new ProducerConfig(acks, bytes, linger, bufferMemory, maxBlock, deliveryTimeout, retryBackoff, retryBackoffMax,
                maxInFlight, idempotence, compression, maxRequestSize);
    }

    public ProducerConfig withLinger(Duration linger) {
        return new ProducerConfig(acks, batchSize, linger, bufferMemory, maxBlock, deliveryTimeout, retryBackoff, retryBackoffMax,
                maxInFlight, idempotence, compression, maxRequestSize);
    }

    public ProducerConfig withBufferMemory(long bytes, Duration maxBlock) {
        return new ProducerConfig(acks, batchSize, linger, bytes, maxBlock, deliveryTimeout, retryBackoff, retryBackoffMax,
                maxInFlight, idempotence, compression, maxRequestSize);
    }

    public ProducerConfig withDeliveryTimeout(Duration timeout) {
        return new ProducerConfig(acks, batchSize, linger, bufferMemory, maxBlock, timeout, retryBackoff, retryBackoffMax,
                maxInFlight, idempotence, compression, maxRequestSize);
    }

    public ProducerConfig withRetryBackoff(Duration backoff) {
        return new ProducerConfig(acks, batchSize, linger, bufferMemory, maxBlock, deliveryTimeout, backoff, retryBackoffMax,
                maxInFlight, idempotence, compression, maxRequestSize);
    }

    /** The cap on retry pauses: {@code retryBackoffMax}, or {@code retryBackoff} when that is larger. */
    Duration retryBackoffCap() {
        return retryBackoffMax.compareTo(retryBackoff) < 0 ? retryBackoff : retryBackoffMax;
    }

    public ProducerConfig withRetryBackoffMax(Duration max) {
        return new ProducerConfig(acks, batchSize, linger, bufferMemory, maxBlock, deliveryTimeout, retryBackoff, max,
                maxInFlight, idempotence, compression, maxRequestSize);
    }

    public ProducerConfig withMaxInFlight(int batches) {
        return new ProducerConfig(acks, batchSize, linger, bufferMemory, maxBlock, deliveryTimeout, retryBackoff, retryBackoffMax,
                batches, idempotence, compression, maxRequestSize);
    }

    public ProducerConfig withIdempotence(boolean on) {
        return new ProducerConfig(acks, batchSize, linger, bufferMemory, maxBlock, deliveryTimeout, retryBackoff, retryBackoffMax,
                maxInFlight, on, compression, maxRequestSize);
    }

    public ProducerConfig withCompression(CompressionType type) {
        return new ProducerConfig(acks, batchSize, linger, bufferMemory, maxBlock, deliveryTimeout, retryBackoff, retryBackoffMax,
                maxInFlight, idempotence, type, maxRequestSize);
    }

    public ProducerConfig withMaxRequestSize(int bytes) {
        return new ProducerConfig(acks, batchSize, linger, bufferMemory, maxBlock, deliveryTimeout, retryBackoff, retryBackoffMax,
                maxInFlight, idempotence, compression, bytes);
    }
}
