package io.millrace.gateway.kafka;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.util.EnumMap;
import java.util.Map;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Millrace's {@link ErrorCode}s as Kafka's {@link Errors}, chosen so that a Kafka client retries what Millrace says is
 * retriable (NOT_LEADER becomes NOT_LEADER_OR_FOLLOWER, which refreshes metadata) and fails at once otherwise. Where
 * Kafka has no error of the same meaning the nearest one with the same retry behaviour is used, and the message
 * carries Millrace's words. Stateless.
 */
final class KafkaErrors {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaErrors.class);

    /** Every ErrorCode has an entry (a test checks it), so an error added later cannot silently become UNKNOWN. */
    static final Map<ErrorCode, Errors> BY_CODE = new EnumMap<>(ErrorCode.class);

    static {
        BY_CODE.put(ErrorCode.UNKNOWN, Errors.UNKNOWN_SERVER_ERROR);
        BY_CODE.put(ErrorCode.CORRUPT_RECORD, Errors.CORRUPT_MESSAGE);
        BY_CODE.put(ErrorCode.UNSUPPORTED_COMPRESSION, Errors.UNSUPPORTED_COMPRESSION_TYPE);
        BY_CODE.put(ErrorCode.OFFSET_OUT_OF_RANGE, Errors.OFFSET_OUT_OF_RANGE);
        BY_CODE.put(ErrorCode.RECORD_TOO_LARGE, Errors.MESSAGE_TOO_LARGE);
        BY_CODE.put(ErrorCode.INVALID_REQUEST, Errors.INVALID_REQUEST);
        BY_CODE.put(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, Errors.UNKNOWN_TOPIC_OR_PARTITION);
        BY_CODE.put(ErrorCode.NOT_LEADER, Errors.NOT_LEADER_OR_FOLLOWER);
        BY_CODE.put(ErrorCode.STORAGE_ERROR, Errors.KAFKA_STORAGE_ERROR);
        BY_CODE.put(ErrorCode.TOPIC_ALREADY_EXISTS, Errors.TOPIC_ALREADY_EXISTS);
        BY_CODE.put(ErrorCode.INVALID_CONFIG, Errors.INVALID_CONFIG);
        BY_CODE.put(ErrorCode.REQUEST_TIMED_OUT, Errors.REQUEST_TIMED_OUT);
        // Kafka has no "overloaded, retry later"; a timeout is the retriable error clients back off on.
        BY_CODE.put(ErrorCode.BROKER_OVERLOADED, Errors.REQUEST_TIMED_OUT);
        BY_CODE.put(ErrorCode.FRAME_TOO_LARGE, Errors.INVALID_REQUEST);
        BY_CODE.put(ErrorCode.UNSUPPORTED_VERSION, Errors.UNSUPPORTED_VERSION);
        BY_CODE.put(ErrorCode.INVALID_REPLICATION_FACTOR, Errors.INVALID_REPLICATION_FACTOR);
        BY_CODE.put(ErrorCode.NOT_ENOUGH_REPLICAS, Errors.NOT_ENOUGH_REPLICAS);
        BY_CODE.put(ErrorCode.OUT_OF_ORDER_SEQUENCE, Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        BY_CODE.put(ErrorCode.DUPLICATE_SEQUENCE, Errors.DUPLICATE_SEQUENCE_NUMBER);
        BY_CODE.put(ErrorCode.INVALID_PRODUCER_EPOCH, Errors.INVALID_PRODUCER_EPOCH);
        BY_CODE.put(ErrorCode.FENCED_LEADER_EPOCH, Errors.FENCED_LEADER_EPOCH);
        BY_CODE.put(ErrorCode.INVALID_TOPIC, Errors.INVALID_TOPIC_EXCEPTION);
        BY_CODE.put(ErrorCode.UNKNOWN_MEMBER_ID, Errors.UNKNOWN_MEMBER_ID);
        BY_CODE.put(ErrorCode.ILLEGAL_GENERATION, Errors.ILLEGAL_GENERATION);
        BY_CODE.put(ErrorCode.REBALANCE_IN_PROGRESS, Errors.REBALANCE_IN_PROGRESS);
        BY_CODE.put(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, Errors.INCONSISTENT_GROUP_PROTOCOL);
        BY_CODE.put(ErrorCode.GROUP_NOT_EMPTY, Errors.NON_EMPTY_GROUP);
        BY_CODE.put(ErrorCode.UNKNOWN_GROUP, Errors.GROUP_ID_NOT_FOUND);
        BY_CODE.put(ErrorCode.INVALID_SESSION_TIMEOUT, Errors.INVALID_SESSION_TIMEOUT);
        BY_CODE.put(ErrorCode.GROUP_MAX_SIZE_REACHED, Errors.GROUP_MAX_SIZE_REACHED);
        BY_CODE.put(ErrorCode.OFFSET_METADATA_TOO_LARGE, Errors.OFFSET_METADATA_TOO_LARGE);
        BY_CODE.put(ErrorCode.INVALID_GROUP_ID, Errors.INVALID_GROUP_ID);
        BY_CODE.put(ErrorCode.NOT_COORDINATOR, Errors.NOT_COORDINATOR);
        BY_CODE.put(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, Errors.COORDINATOR_LOAD_IN_PROGRESS);
        BY_CODE.put(ErrorCode.INVALID_TIMESTAMP, Errors.INVALID_TIMESTAMP);
        // Kafka has no partition cap; a policy refusal is its non-retriable "the cluster does not allow this".
        BY_CODE.put(ErrorCode.TOO_MANY_PARTITIONS, Errors.POLICY_VIOLATION);
        BY_CODE.put(ErrorCode.INVALID_REPLICA_ASSIGNMENT, Errors.INVALID_REPLICA_ASSIGNMENT);
        BY_CODE.put(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, Errors.NO_REASSIGNMENT_IN_PROGRESS);
        BY_CODE.put(ErrorCode.BROKER_NOT_AVAILABLE, Errors.BROKER_NOT_AVAILABLE);
    }

    private KafkaErrors() {
    }

    /** Kafka's error for a Millrace error code. */
    static Errors of(ErrorCode code) {
        return BY_CODE.getOrDefault(code, Errors.UNKNOWN_SERVER_ERROR);
    }

    /**
     * Kafka's error for a failed broker call: the mapped code of a {@link MillraceException}, else
     * UNKNOWN_SERVER_ERROR and a log line (a bug or an unexpected condition on this broker).
     */
    static Errors of(Throwable failure) {
        if (failure instanceof MillraceException e) {
            return of(e.errorCode());
        }
        LOG.warn("Unexpected failure answering a Kafka request", failure);
        return Errors.UNKNOWN_SERVER_ERROR;
    }

    /** The message to send with a failure: Millrace's own, which says what to do. */
    static String message(Throwable failure) {
        return failure instanceof MillraceException ? failure.getMessage() : "Unexpected failure on the broker: "
                + failure;
    }
}
