package io.millrace.broker;

import io.millrace.common.TopicPartition;
import io.millrace.common.Acks;
import io.millrace.common.OffsetSpec;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * What one broker asks another over the clustered event bus when a client's request is for a partition the other
 * leads ({@link ForwardingEndpoint}), and the answers. Record batches travel as their bytes ({@link ForwardingCodec}),
 * never re-encoded. Every request carries the leader epoch the client named ({@code LeaderEpoch.UNKNOWN} for none),
 * so fencing happens at the leader exactly as for a client connected there.
 */
sealed interface Forwarded {

    /** A request about one partition. */
    sealed interface Request extends Forwarded {
        TopicPartition topicPartition();
    }

    record Produce(TopicPartition topicPartition, Buffer batch, Acks acks, int currentLeaderEpoch)
            implements Request {
    }

    /**
     * A long-poll fetch; {@code fetchId} names it for {@link CancelFetch}. Fetch ids carry the sending broker's id in
     * their high bits ({@link BrokerService}), so they are unique at the leader too.
     */
    record Fetch(TopicPartition topicPartition, long offset, int maxBytes, long maxWaitMs, int currentLeaderEpoch,
                 long fetchId) implements Request {
    }

    /** Withdraws a waiting {@link Fetch} (its reader went away); not answered. */
    record CancelFetch(TopicPartition topicPartition, long fetchId) implements Request {
    }

    record ListOffset(TopicPartition topicPartition, OffsetSpec spec, int currentLeaderEpoch) implements Request {
    }

    record DeleteRecords(TopicPartition topicPartition, long offset) implements Request {
    }

    record EndOffsetForEpoch(TopicPartition topicPartition, int leaderEpoch, int currentLeaderEpoch)
            implements Request {
    }

    /**
     * A call for the group coordinator of {@code groupId} ({@link GroupMessages} defines the arguments and answers of
     * each {@code operation}); {@code groupId} is empty for a call to every coordinator (listing groups).
     */
    record GroupCall(String groupId, String operation, JsonObject arguments, long timeoutMs) implements Forwarded {
    }

    /** Asks the controller to move leadership back to each partition's preferred replica where it can. */
    record ElectPreferredLeaders() implements Forwarded {
    }

    /** The answer to {@link ElectPreferredLeaders}: how many partitions changed leader. */
    record Elected(int partitions) implements Forwarded {
    }

    /** The answer to a {@link GroupCall}. */
    record GroupAnswer(JsonObject body) implements Forwarded {
    }

    /** The answer to {@link Produce}. */
    record Produced(long baseOffset, long lastOffset, long logAppendTime, long logStartOffset) implements Forwarded {
        static final long NO_LOG_APPEND_TIME = Long.MIN_VALUE;
    }

    /**
     * The answer to {@link Fetch}: whole batches, {@code firstOffset} the base offset of the first (which may lie
     * before the offset asked for), {@code nextOffset} one past the last record.
     */
    record Fetched(Buffer records, long firstOffset, long nextOffset, long highWatermark, long logStartOffset,
                   long logEndOffset) implements Forwarded {
    }

    /** An offset with a timestamp (ListOffset), or a leader epoch with its end offset (EndOffsetForEpoch). */
    record Position(long offset, long timestampOrEpoch) implements Forwarded {
    }
}
