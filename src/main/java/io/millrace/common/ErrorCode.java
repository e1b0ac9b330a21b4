package io.millrace.common;

/**
 * Every error a client can see, with a stable numeric code (used on the TCP wire) and a stable name (used in JSON).
 * Codes are never renumbered; new errors take new numbers.
 *
 * <p>{@link #retriable()} tells a client whether the same request may succeed if simply sent again later.
 */
public enum ErrorCode {
    UNKNOWN(1, false, "An unexpected error occurred on the broker; see the broker log."),
    CORRUPT_RECORD(2, false, "A record batch failed validation (size, magic or CRC); resend a well-formed batch."),
    UNSUPPORTED_COMPRESSION(3, false, "The batch's codec id is not one Kafka defines, or its codec library is missing."),
    OFFSET_OUT_OF_RANGE(4, false, "The requested offset is outside the partition's log; seek to earliest or latest."),
    RECORD_TOO_LARGE(5, false, "The batch is larger than the configured maximum; split it or raise the limit."),
    INVALID_REQUEST(6, false, "The request is malformed; fix it before retrying."),
    UNKNOWN_TOPIC_OR_PARTITION(7, true, "The topic or partition does not exist (yet); create it or check the name."),
    NOT_LEADER(8, true, "This broker does not lead the partition; refresh metadata and retry."),
    STORAGE_ERROR(9, true, "The broker could not read or write the partition's log."),
    TOPIC_ALREADY_EXISTS(10, false, "A topic with that name already exists."),
    INVALID_CONFIG(11, false, "A configuration value is invalid."),
    REQUEST_TIMED_OUT(12, true, "The request did not complete in time; retry."),
    BROKER_OVERLOADED(13, true, "The broker is at a configured limit; retry later with back-off."),
    FRAME_TOO_LARGE(14, false, "A frame exceeded the configured maximum size; the connection is closed."),
    UNSUPPORTED_VERSION(15, false, "The protocol version is not supported; upgrade the client."),
    INVALID_REPLICATION_FACTOR(16, false, "The replication factor exceeds the number of live brokers."),
    NOT_ENOUGH_REPLICAS(17, true, "Fewer in-sync replicas than min.insync.replicas; acks=all cannot be satisfied now."),
    OUT_OF_ORDER_SEQUENCE(18, false, "A producer sequence number skipped ahead; the producer must reset."),
    DUPLICATE_SEQUENCE(19, false, "The batch was already written (idempotent retry); its original offsets apply."),
    INVALID_PRODUCER_EPOCH(20, false, "The producer epoch is stale; another producer instance took over."),
    FENCED_LEADER_EPOCH(21, true, "The leader epoch is stale; refresh metadata and retry."),
    INVALID_TOPIC(22, false, "The topic name is invalid: use 1-249 characters of [a-zA-Z0-9._-]."),
    UNKNOWN_MEMBER_ID(23, false, "The member id is not known to the group (evicted, left, or the coordinator moved); "
            + "rejoin with an empty member id."),
    ILLEGAL_GENERATION(24, false, "The group generation is stale; rejoin the group to get the current generation."),
    REBALANCE_IN_PROGRESS(25, false, "The group is rebalancing; rejoin (or wait for the pending join) and retry with "
            + "the new generation."),
    INCONSISTENT_GROUP_PROTOCOL(26, false, "The member asked for an assignment strategy other than the group's; use "
            + "the group's strategy or another group id."),
    GROUP_NOT_EMPTY(27, false, "The group still has members; stop them (or wait for their sessions to expire) first."),
    UNKNOWN_GROUP(28, false, "The group does not exist on this coordinator."),
    INVALID_SESSION_TIMEOUT(29, false, "The session timeout is outside the broker's configured minimum and maximum."),
    GROUP_MAX_SIZE_REACHED(30, false, "The group has the configured maximum number of members."),
    OFFSET_METADATA_TOO_LARGE(31, false, "The offset metadata text is longer than the configured maximum."),
    INVALID_GROUP_ID(32, false, "The group id is invalid: use 1-255 characters."),
    NOT_COORDINATOR(33, true, "This broker does not coordinate the group (it does not lead the group's partition of "
            + "__consumer_offsets); refresh metadata and retry on the coordinator."),
    COORDINATOR_LOAD_IN_PROGRESS(34, true, "The group coordinator is still loading committed offsets; retry shortly."),
    INVALID_TIMESTAMP(35, false, "A record's timestamp lies further from the broker's clock than the topic allows "
            + "(message.timestamp.after.max.ms ahead, message.timestamp.before.max.ms behind); fix the producer's "
            + "clock or the timestamps it sets, or raise the topic's limits."),
    TOO_MANY_PARTITIONS(36, false, "The cluster would have more partitions than max.partitions allows; delete topics "
            + "or raise max.partitions together with the brokers' heap (about 8 KiB a partition)."),
    INVALID_REPLICA_ASSIGNMENT(37, false, "The replica list is invalid: name distinct brokers, at least the topic's "
            + "min.insync.replicas of them, such that every partition has somewhere to go."),
    NO_REASSIGNMENT_IN_PROGRESS(38, false, "The partition has no reassignment in progress (it finished, or never "
            + "started)."),
    BROKER_NOT_AVAILABLE(39, true, "The broker named is not alive; start it, or plan without it.");

    private final short code;
    private final boolean retriable;
    private final String description;

    ErrorCode(int code, boolean retriable, String description) {
        this.code = (short) code;
        this.retriable = retriable;
        this.description = description;
    }

    public short code() {
        return code;
    }

    public boolean retriable() {
        return retriable;
    }

    /** A default message saying what happened and what to do about it. */
    public String description() {
        return description;
    }

    /** The error with the given wire code, or {@link #UNKNOWN} for a code this version does not know. */
    public static ErrorCode forCode(int code) {
        for (ErrorCode e : values()) {
            if (e.code == code) {
                return e;
            }
        }
        return UNKNOWN;
    }
}
