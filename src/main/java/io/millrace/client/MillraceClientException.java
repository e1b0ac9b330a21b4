package io.millrace.client;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.protocol.ApiError;
import java.util.Optional;

/**
 * An error the SDK surfaces: the broker's {@link ErrorCode} and message, as a type a caller can catch. Subclasses
 * name the errors applications commonly handle; {@link #retriable()} says whether trying again may succeed (the SDK
 * already retried where its configuration allowed).
 */
public class MillraceClientException extends MillraceException {

    /** Where the broker said the partition's leader is now (NOT_LEADER, FENCED_LEADER_EPOCH), if it said. */
    private transient Optional<ApiError.LeaderHint> leaderHint = Optional.empty();

    public MillraceClientException(ErrorCode code, String message) {
        super(code, message);
    }

    public MillraceClientException(ErrorCode code, String message, Throwable cause) {
        super(code, message, cause);
    }

    public boolean retriable() {
        return errorCode().retriable();
    }

    /**
     * The partition's current leader as the broker that refused the request knows it; the SDK switches to it
     * without asking for metadata.
     */
    Optional<ApiError.LeaderHint> leaderHint() {
        return leaderHint == null ? Optional.empty() : leaderHint;
    }

    /** The typed exception for a broker's error. */
    public static MillraceClientException from(ApiError error) {
        MillraceClientException e = typed(error);
        e.leaderHint = error.leader();
        return e;
    }

    private static MillraceClientException typed(ApiError error) {
        String message = error.message();
        return switch (error.code()) {
            case UNKNOWN_TOPIC_OR_PARTITION -> new UnknownTopicOrPartitionException(message);
            case TOPIC_ALREADY_EXISTS -> new TopicExistsException(message);
            case OFFSET_OUT_OF_RANGE -> new OffsetOutOfRangeException(message);
            case RECORD_TOO_LARGE -> new RecordTooLargeException(message);
            case INVALID_TIMESTAMP -> new InvalidTimestampException(message);
            default -> new MillraceClientException(error.code(), message);
        };
    }

    /** The topic or partition does not exist. */
    public static final class UnknownTopicOrPartitionException extends MillraceClientException {
        public UnknownTopicOrPartitionException(String message) {
            super(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message);
        }
    }

    /** A topic with that name exists already. */
    public static final class TopicExistsException extends MillraceClientException {
        public TopicExistsException(String message) {
            super(ErrorCode.TOPIC_ALREADY_EXISTS, message);
        }
    }

    /** The offset is not in the partition's log (deleted by retention, or not written yet). */
    public static final class OffsetOutOfRangeException extends MillraceClientException {
        public OffsetOutOfRangeException(String message) {
            super(ErrorCode.OFFSET_OUT_OF_RANGE, message);
        }
    }

    /** A record or batch is larger than the broker or the producer allows. */
    public static final class RecordTooLargeException extends MillraceClientException {
        public RecordTooLargeException(String message) {
            super(ErrorCode.RECORD_TOO_LARGE, message);
        }
    }

    /**
     * A record's timestamp lies further from the broker's clock than the topic allows; not retriable: the same
     * timestamps would be refused again. Fix the producer's clock or the timestamps it sets.
     */
    public static final class InvalidTimestampException extends MillraceClientException {
        public InvalidTimestampException(String message) {
            super(ErrorCode.INVALID_TIMESTAMP, message);
        }
    }

    /** The connection to a broker failed or was lost; retriable. */
    public static final class ConnectionException extends MillraceClientException {
        public ConnectionException(String message, Throwable cause) {
            super(ErrorCode.REQUEST_TIMED_OUT, message, cause);
        }
    }

    /** The producer's buffer stayed full for longer than {@code maxBlock}. */
    public static final class BufferExhaustedException extends MillraceClientException {
        public BufferExhaustedException(String message) {
            super(ErrorCode.BROKER_OVERLOADED, message);
        }
    }
}
