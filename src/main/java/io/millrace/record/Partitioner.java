package io.millrace.record;

import java.util.Objects;

/**
 * Maps a record key to a partition exactly as Apache Kafka's default partitioner does
 * ({@code toPositive(murmur2(key)) % numPartitions}), so that a key lands on the same partition number whether a
 * Kafka client or a Millrace client wrote it. Records without a key are spread by the producer, not here.
 * Stateless and thread-safe.
 */
public final class Partitioner {

    private static final int SEED = 0x9747b28c;
    private static final int M = 0x5bd1e995;
    private static final int R = 24;

    private Partitioner() {
    }

    /** The 32-bit murmur2 hash of {@code data}, with Kafka's seed and byte order. */
    public static int murmur2(byte[] data) {
        int length = data.length;
        int h = SEED ^ length;
        int length4 = length / 4;
        for (int i = 0; i < length4; i++) {
            int i4 = i * 4;
            int k = (data[i4] & 0xff) + ((data[i4 + 1] & 0xff) << 8) + ((data[i4 + 2] & 0xff) << 16)
                    + ((data[i4 + 3] & 0xff) << 24);
            k *= M;
            k ^= k >>> R;
            k *= M;
            h *= M;
            h ^= k;
        }
        int tail = length & ~3;
        int rest = length % 4;
        // The reference implementation falls through from case 3 to case 1; spelled out to keep -Xlint quiet.
        if (rest >= 3) {
            h ^= (data[tail + 2] & 0xff) << 16;
        }
        if (rest >= 2) {
            h ^= (data[tail + 1] & 0xff) << 8;
        }
        if (rest >= 1) {
            h ^= data[tail] & 0xff;
            h *= M;
        }
        h ^= h >>> 13;
        h *= M;
        h ^= h >>> 15;
        return h;
    }

    /**
     * Clears the sign bit. Unlike {@link Math#abs(int)} this maps {@link Integer#MIN_VALUE} to 0 rather than to a
     * negative number, which is why Kafka uses it.
     */
    public static int toPositive(int n) {
        return n & 0x7fffffff;
    }

    /**
     * The partition for a non-null key among {@code numPartitions}.
     *
     * @throws IllegalArgumentException if {@code numPartitions} is not positive
     */
    public static int partitionForKey(byte[] key, int numPartitions) {
        Objects.requireNonNull(key, "key");
        if (numPartitions <= 0) {
            throw new IllegalArgumentException("numPartitions must be positive, was " + numPartitions);
        }
        return toPositive(murmur2(key)) % numPartitions;
    }
}
