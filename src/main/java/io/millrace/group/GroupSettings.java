package io.millrace.group;

/**
 * The limits and delays of the group coordinator. Immutable.
 *
 * @param minSessionTimeoutMs     shortest session timeout a member may ask for (Kafka's
 *                                {@code group.min.session.timeout.ms}); shorter ones are refused
 *                                {@code INVALID_SESSION_TIMEOUT}
 * @param maxSessionTimeoutMs     longest one ({@code group.max.session.timeout.ms})
 * @param initialRebalanceDelayMs how long the first rebalance of an empty group waits for more members before it
 *                                completes ({@code group.initial.rebalance.delay.ms}), so that a service starting N
 *                                instances gets one rebalance rather than N; never longer than the rebalance
 *                                timeout; 0 turns it off
 * @param maxGroupSize            most members a group may have ({@code group.max.size}); more are refused
 *                                {@code GROUP_MAX_SIZE_REACHED}
 * @param maxMetadataChars        longest offset metadata text ({@code offset.metadata.max.bytes}, counted in
 *                                characters here), at most {@value #METADATA_CHARS_LIMIT} so that it always fits the
 *                                record format
 */
public record GroupSettings(int minSessionTimeoutMs, int maxSessionTimeoutMs, int initialRebalanceDelayMs,
                            int maxGroupSize, int maxMetadataChars) {

    /** 10,000 characters are at most 30,000 UTF-8 bytes, under the 32,767 of an int16-length string. */
    public static final int METADATA_CHARS_LIMIT = 10_000;

    public GroupSettings {
        if (minSessionTimeoutMs <= 0 || maxSessionTimeoutMs < minSessionTimeoutMs) {
            throw new IllegalArgumentException("need 0 < minSessionTimeoutMs <= maxSessionTimeoutMs, got "
                    + minSessionTimeoutMs + ", " + maxSessionTimeoutMs);
        }
        if (initialRebalanceDelayMs < 0) {
            throw new IllegalArgumentException("initialRebalanceDelayMs must be >= 0, was " + initialRebalanceDelayMs);
        }
        if (maxGroupSize <= 0) {
            throw new IllegalArgumentException("maxGroupSize must be > 0, was " + maxGroupSize);
        }
        if (maxMetadataChars < 0 || maxMetadataChars > METADATA_CHARS_LIMIT) {
            throw new IllegalArgumentException("maxMetadataChars must be in 0.." + METADATA_CHARS_LIMIT + ", was "
                    + maxMetadataChars);
        }
    }

    /** Apache Kafka's defaults: 6 s to 30 min sessions, a 3 s initial delay, unbounded groups, 4096 characters. */
    public static GroupSettings defaults() {
        return new GroupSettings(6_000, 1_800_000, 3_000, Integer.MAX_VALUE, 4096);
    }
}
