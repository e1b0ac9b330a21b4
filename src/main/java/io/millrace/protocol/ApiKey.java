package io.millrace.protocol;

import java.util.Optional;

/**
 * The operation a frame carries, as the {@code int16 apiKey} of the frame header. Ids are never renumbered; new
 * operations take new ids (and a new protocol version).
 *
 * <p>A request and its response carry the same key; {@link #PUSH} travels only from server to client and
 * {@link #CREDIT} has no response. See {@link FrameCodec} for every body layout.
 */
public enum ApiKey {
    HANDSHAKE(0),
    METADATA(1),
    PRODUCE(2),
    FETCH(3),
    LIST_OFFSETS(4),
    SUBSCRIBE(5),
    CREDIT(6),
    UNSUBSCRIBE(7),
    PUSH(8),
    CREATE_TOPIC(9),
    DELETE_TOPIC(10),
    DESCRIBE_TOPIC(11),
    LIST_TOPICS(12),
    ADD_PARTITIONS(13),
    INIT_PRODUCER_ID(14),
    // Consumer groups, protocol version 2
    JOIN_GROUP(15),
    HEARTBEAT(16),
    LEAVE_GROUP(17),
    COMMIT_OFFSETS(18),
    FETCH_OFFSETS(19),
    LIST_GROUPS(20),
    DESCRIBE_GROUP(21),
    RESET_OFFSETS(22),
    DELETE_GROUP(23),
    // Partition reassignments, protocol version 5
    ALTER_REASSIGNMENTS(24),
    LIST_REASSIGNMENTS(25);

    /** The first key of protocol version 2. */
    private static final int FIRST_OF_VERSION_2 = 15;
    /** The first key of protocol version 5. */
    private static final int FIRST_OF_VERSION_5 = 24;

    private static final ApiKey[] BY_ID = new ApiKey[values().length];

    static {
        for (ApiKey key : values()) {
            BY_ID[key.id] = key;
        }
    }

    private final short id;

    ApiKey(int id) {
        this.id = (short) id;
    }

    /** The id on the wire. */
    public short id() {
        return id;
    }

    /**
     * The lowest protocol version that has this key: 1, 2 for the consumer-group keys (15 to 23), 5 for the
     * reassignment keys (24 and up).
     */
    public int sinceVersion() {
        return id >= FIRST_OF_VERSION_5 ? 5 : id >= FIRST_OF_VERSION_2 ? 2 : 1;
    }

    /** Whether a client may send a frame with this key: every key but {@link #PUSH}. */
    public boolean sentByClient() {
        return this != PUSH;
    }

    /**
     * Whether the request of this kind is answered by a response frame: every key but {@link #PUSH} and
     * {@link #CREDIT}. A PRODUCE with acks 0 is not answered either; ask {@link Request#expectsResponse()}.
     */
    public boolean hasResponse() {
        return this != PUSH && this != CREDIT;
    }

    /** The key with the given wire id, or empty for an id this protocol version does not define. */
    public static Optional<ApiKey> forId(int id) {
        return id >= 0 && id < BY_ID.length ? Optional.of(BY_ID[id]) : Optional.empty();
    }
}
