package io.millrace.protocol;

import io.millrace.common.LeaderEpoch;
import java.util.Locale;
import java.util.Objects;

/**
 * Opens a push subscription on one partition. The server answers with a {@link SubscribeResponse} holding the
 * resolved start offset, then sends {@link Push} frames whose correlation id is this request's correlation id (the
 * subscription id) while the subscription has credit. Credits count records: the broker sends a batch while the
 * subscription's balance is at least 1 and subtracts the batch's record count, so the balance may go negative and a
 * client receives at most one batch beyond its demand. {@link CreditRequest} adds to the balance.
 *
 * @param topic              not null
 * @param partition          >= 0
 * @param currentLeaderEpoch the partition's leader epoch as the client's metadata has it, or
 *                           {@link LeaderEpoch#UNKNOWN} (-1) for no check; on the wire from protocol version 4. Every
 *                           fetch of the subscription carries it, so a subscription outlives no leader change: it
 *                           ends with FENCED_LEADER_EPOCH or NOT_LEADER, and the client subscribes again
 * @param start              where to start reading
 * @param initialCredits     the starting credit balance in records, >= 0
 * @param maxBytesPerPush    the most batch bytes in one PUSH, > 0; a single batch larger than this is still sent alone
 */
public record SubscribeRequest(String topic, int partition, int currentLeaderEpoch, StartPosition start,
                               int initialCredits, int maxBytesPerPush) implements Request {

    /** A subscription without a leader epoch: the partition does not check it. */
    public SubscribeRequest(String topic, int partition, StartPosition start, int initialCredits,
                            int maxBytesPerPush) {
        this(topic, partition, LeaderEpoch.UNKNOWN, start, initialCredits, maxBytesPerPush);
    }

    public SubscribeRequest {
        Objects.requireNonNull(topic, "topic");
        Require.nonNegative(partition, "partition");
        LeaderEpoch.requireValid(currentLeaderEpoch, "currentLeaderEpoch");
        Objects.requireNonNull(start, "start");
        Require.nonNegative(initialCredits, "initialCredits");
        Require.positive(maxBytesPerPush, "maxBytesPerPush");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.SUBSCRIBE;
    }

    /**
     * Where a subscription starts: {@code int8 kind, int64 value} on the wire.
     *
     * @param kind  never null
     * @param value the offset or timestamp (>= 0) for {@link Kind#OFFSET} and {@link Kind#TIMESTAMP}; 0 otherwise
     */
    public record StartPosition(Kind kind, long value) {

        public StartPosition {
            Objects.requireNonNull(kind, "kind");
            if (kind == Kind.EARLIEST || kind == Kind.LATEST) {
                if (value != 0) {
                    throw new IllegalArgumentException("start value must be 0 for " + kind + ", was " + value);
                }
            } else {
                Require.nonNegative(value, "start " + kind.name().toLowerCase(Locale.ROOT));
            }
        }

        /** The log start offset. */
        public static StartPosition earliest() {
            return new StartPosition(Kind.EARLIEST, 0);
        }

        /** The high watermark: only records committed from now on. */
        public static StartPosition latest() {
            return new StartPosition(Kind.LATEST, 0);
        }

        /** An exact offset. */
        public static StartPosition offset(long offset) {
            return new StartPosition(Kind.OFFSET, offset);
        }

        /** The first offset whose record timestamp is at or after {@code timestamp} (ms since the epoch). */
        public static StartPosition timestamp(long timestamp) {
            return new StartPosition(Kind.TIMESTAMP, timestamp);
        }

        /** The kinds of start position, with their wire values. */
        public enum Kind {
            EARLIEST(0),
            LATEST(1),
            OFFSET(2),
            TIMESTAMP(3);

            private final byte code;

            Kind(int code) {
                this.code = (byte) code;
            }

            /** The value on the wire. */
            public byte code() {
                return code;
            }

            /** The kind with the given wire value. */
            public static Kind forCode(int code) {
                for (Kind k : values()) {
                    if (k.code == code) {
                        return k;
                    }
                }
                throw new IllegalArgumentException("startKind must be 0 to 3, was " + code);
            }
        }
    }

    void write(WireWriter w) {
        w.string(topic);
        w.int32(partition);
        w.leaderEpoch(currentLeaderEpoch);
        w.int8(start.kind().code());
        w.int64(start.value());
        w.int32(initialCredits);
        w.int32(maxBytesPerPush);
    }

    static SubscribeRequest read(WireReader r) {
        String topic = r.string("topic");
        int partition = r.int32("partition");
        int currentLeaderEpoch = r.leaderEpoch("currentLeaderEpoch");
        StartPosition.Kind kind = StartPosition.Kind.forCode(r.int8("startKind"));
        StartPosition start = new StartPosition(kind, r.int64("startValue"));
        return new SubscribeRequest(topic, partition, currentLeaderEpoch, start, r.int32("initialCredits"),
                r.int32("maxBytesPerPush"));
    }
}
