package io.millrace.protocol;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Consumer;

/**
 * Encodes and decodes the frames of Millrace's native binary protocol, spoken over TCP between the Java SDK and a
 * broker's TCP gateway. This class owns the format; {@code docs/PROTOCOL.md} describes the same bytes together with
 * the connection's behaviour.
 *
 * <h2>Frame</h2>
 * All integers are big-endian and signed. Offsets are from the start of the frame.
 * <pre>
 * offset size  field
 *      0    4  size           int32  bytes after this field; at least 6, at most the receiver's maxFrameBytes
 *      4    2  apiKey         int16  the operation ({@link ApiKey}); a response or push echoes its request's key
 *      6    4  correlationId  int32  chosen by the client, echoed in the response; a PUSH carries its
 *                                    subscription id (the correlation id of the SUBSCRIBE that opened it)
 *     10    .  body                  the message, as below; nothing may follow it
 * </pre>
 * A response body starts with a response header; a PUSH has none:
 * <pre>
 * errorCode     int16   0 on success, else {@link ErrorCode#code()} (ErrorCode has no "none": 0 is reserved)
 * errorMessage  string  null on success, else a message for humans (if null, the code's description applies)
 * ...                   the response's own fields, present only when errorCode is 0
 * </pre>
 * A non-zero code there means the request failed as a whole ({@link ErrorResponse}). Operations over several
 * partitions report each partition's error inside a successful body as the same {@code error} pair.
 *
 * <h2>Field types</h2>
 * <pre>
 * int8 int16 int32 int64  1, 2, 4, 8 bytes, two's complement
 * string                  int16 length, then that many bytes of UTF-8; length -1 is null (only where allowed);
 *                         at most 32767 bytes; invalid UTF-8 is malformed
 * bytes                   int32 length, then that many raw bytes; length -1 is null (no field of version 1 allows it)
 * T[]                     int32 count, then count elements; count -1 is null (only where allowed)
 * error                   int16 errorCode, string errorMessage: (0, null) is no error
 * map                     [string key, string value][]; keys unique, keys and values not null
 * batches                 bytes holding zero or more whole Kafka RecordBatch v2 batches back to back, exactly as
 *                         stored; the codec does not look inside them (the broker validates them)
 * </pre>
 *
 * <h2>Bodies, version 1</h2>
 * Fields in order; {@code ?} marks the only places null is allowed.
 * <pre>
 * 0  HANDSHAKE      request   magic string ("MILLRACE"), minVersion int16, maxVersion int16, clientId string
 *                   response  version int16, brokerId int32, maxFrameBytes int32, maxInFlightRequests int32
 * 1  METADATA       request   topics string[]? (null: all topics)
 *                   response  brokers [id int32, host string, tcpPort int32, httpPort int32][],
 *                             controllerId int32 (-1 none),
 *                             topics [name string, error, partitions [partition int32, leader int32 (-1 none),
 *                                     leaderEpoch int32, replicas int32[], isr int32[]][]][]
 * 2  PRODUCE        request   acks int8 (0, 1, -1 all), timeoutMs int32, topic string,
 *                             partitions [partition int32, batches][]
 *                   response  partitions [partition int32, error, baseOffset int64, logAppendTime int64 (-1 none),
 *                                         logStartOffset int64][]          (no response at all when acks is 0)
 * 3  FETCH          request   maxWaitMs int32, minBytes int32, maxBytes int32, topic string,
 *                             partitions [partition int32, offset int64, partitionMaxBytes int32][]
 *                   response  partitions [partition int32, error, highWatermark int64, logStartOffset int64,
 *                                         batches][]
 * 4  LIST_OFFSETS   request   topic string, partitions [partition int32, timestamp int64 (-2 earliest, -1 latest,
 *                                                       else first offset with a timestamp at or after it)][]
 *                   response  partitions [partition int32, error, offset int64 (-1 none),
 *                                         timestamp int64 (-1 none)][]
 * 5  SUBSCRIBE      request   topic string, partition int32, startKind int8 (0 earliest, 1 latest, 2 offset,
 *                             3 timestamp), startValue int64 (0 for earliest and latest), initialCredits int32,
 *                             maxBytesPerPush int32
 *                   response  startOffset int64
 * 6  CREDIT         request   subscriptionId int32, credits int32 (records, at least 1)
 *                   response  none
 * 7  UNSUBSCRIBE    request   subscriptionId int32
 *                   response  empty
 * 8  PUSH           server    topic string, partition int32, highWatermark int64, error, batches
 *                             (no response header; correlationId is the subscription id)
 * 9  CREATE_TOPIC   request   name string, partitions int32, replicationFactor int16, config map
 *                   response  description
 * 10 DELETE_TOPIC   request   name string
 *                   response  empty
 * 11 DESCRIBE_TOPIC request   name string
 *                   response  description
 * 12 LIST_TOPICS    request   empty
 *                   response  names string[]
 * 13 ADD_PARTITIONS request   name string, totalPartitions int32
 *                   response  description
 * 14 INIT_PRODUCER_ID request empty
 *                   response  producerId int64, producerEpoch int16
 * </pre>
 *
 * <h2>Bodies added by version 2: consumer groups</h2>
 * A connection that negotiated version 1 gets UNSUPPORTED_VERSION for these keys. Errors of the group protocol
 * (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, NOT_COORDINATOR, ...) come in the response header.
 * <pre>
 * 15 JOIN_GROUP     request   groupId string, memberId string ("" for a new member), clientId string,
 *                             sessionTimeoutMs int32 (> 0), rebalanceTimeoutMs int32 (> 0),
 *                             strategy string ("range", "roundrobin", "cooperative-sticky"), topics string[]
 *                   response  generation int32, memberId string, strategy string, mustRejoin int8 (0 or 1),
 *                             assignment tps, revoked tps
 *                             (answered when the rebalance completes: up to the longest rebalance timeout)
 * 16 HEARTBEAT      request   groupId string, memberId string, generation int32
 *                   response  empty
 * 17 LEAVE_GROUP    request   groupId string, memberId string
 *                   response  empty
 * 18 COMMIT_OFFSETS request   groupId string, memberId string ("" with generation -1: no membership),
 *                             generation int32, offsets poffs
 *                   response  empty (all or nothing; sent once the commit is durable)
 * 19 FETCH_OFFSETS  request   groupId string, partitions tps (empty: all of the group's)
 *                   response  offsets poffs (a partition without a commit is absent)
 * 20 LIST_GROUPS    request   empty
 *                   response  groups [groupId string, state string, memberCount int32, strategy string?][]
 * 21 DESCRIBE_GROUP request   groupId string
 *                   response  groupId string, state string, generation int32, strategy string?,
 *                             members [memberId string, clientId string, host string, topics string[],
 *                                      assignment tps][],
 *                             partitions [topic string, partition int32, owner string?, committed int64 (-1 none),
 *                                         highWatermark int64 (-1 unknown), lag int64 (-1 unknown)][]
 * 22 RESET_OFFSETS  request   groupId string, offsets poffs (metadata ignored); only for a group without members
 *                   response  empty
 * 23 DELETE_GROUP   request   groupId string
 *                   response  empty
 *
 * tps   = [topic string, partitions int32[]][]
 * poffs = [topic string, partition int32, offset int64, metadata string][]
 * </pre>
 * <pre>
 *
 * description = name string, replicationFactor int16, config map,
 *               partitions [partition int32, leader int32 (-1 none), leaderEpoch int32, replicas int32[], isr int32[],
 *                           logStartOffset int64, logEndOffset int64, highWatermark int64, sizeBytes int64][]
 * </pre>
 * For example a FETCH response frame with one partition and no error is: size, apiKey 3, correlationId, errorCode 0,
 * errorMessage length -1 ({@code FF FF}), count 1, partition, errorCode 0, errorMessage {@code FF FF},
 * highWatermark, logStartOffset, batches length, batch bytes.
 *
 * <h2>Version 3: leader hints</h2>
 * Version 3 changes one field type and adds no key: an {@code error} whose code is NOT_LEADER (8) or
 * FENCED_LEADER_EPOCH (21) is followed by {@code leaderId int32} (-1 unknown) and {@code leaderEpoch int32} (-1
 * unknown), the partition's current leader as the answering broker knows it. This holds wherever an {@code error}
 * appears: the response header, the per-partition errors of PRODUCE, FETCH and LIST_OFFSETS, a METADATA topic, a
 * PUSH. Other codes, and every error on a version 1 or 2 connection, keep the two-field layout.
 * <pre>
 * error (v3)  int16 errorCode, string errorMessage, and when errorCode is 8 or 21: leaderId int32, leaderEpoch int32
 * </pre>
 *
 * <h2>Version 4: leader epochs in requests</h2>
 * Version 4 adds no key: every partition of PRODUCE, FETCH and LIST_OFFSETS, and SUBSCRIBE, carry the partition's
 * leader epoch as the client's metadata has it (Kafka's {@code currentLeaderEpoch}, KIP-320), right after the
 * partition number; -1 means unknown (no check), and below -1 is malformed. A replica in another epoch refuses the
 * request without acting on it: FENCED_LEADER_EPOCH when the client's epoch is older, NOT_LEADER when it is newer (the
 * replica has not learned the new state yet). Versions 1 to 3 have no such field, and their requests are not checked.
 * <pre>
 * 2 PRODUCE       partitions [partition int32, currentLeaderEpoch int32, batches][]
 * 3 FETCH         partitions [partition int32, currentLeaderEpoch int32, offset int64, partitionMaxBytes int32][]
 * 4 LIST_OFFSETS  partitions [partition int32, currentLeaderEpoch int32, timestamp int64][]
 * 5 SUBSCRIBE     topic string, partition int32, currentLeaderEpoch int32, startKind int8, ...
 * </pre>
 *
 * <h2>Version 5: partition reassignments</h2>
 * Version 5 adds two keys and changes no layout; a connection of an older version gets UNSUPPORTED_VERSION for them.
 * Errors that concern the whole request (INVALID_REPLICA_ASSIGNMENT, BROKER_NOT_AVAILABLE,
 * NO_REASSIGNMENT_IN_PROGRESS, UNKNOWN_TOPIC_OR_PARTITION) come in the response header; nothing was changed then.
 * <pre>
 * 24 ALTER_REASSIGNMENTS request   partitions [topic string, partition int32, replicas int32[]? (null: cancel)][]
 *                        response  started [topic string, partition int32, replicas int32[]][], cancelled int32
 * 25 LIST_REASSIGNMENTS  request   empty
 *                        response  reassignments [topic string, partition int32, original int32[], target int32[],
 *                                                 replicas int32[], isr int32[], leader int32, phase string][]
 * </pre>
 *
 * <h2>Versions</h2>
 * The version is negotiated once per connection by HANDSHAKE (whose layout never changes) rather than carried in
 * every frame; this class speaks versions {@value #MIN_VERSION} to {@value #MAX_VERSION}. The methods without a
 * {@code version} parameter use the current version's layout ({@value #MAX_VERSION}); both sides encode and decode
 * in the connection's version once the handshake chose it ({@link #encode(Frame, int)},
 * {@link #decodeRequest(ByteBuffer, int)}, {@link #decodeResponse(ByteBuffer, int)}).
 *
 * <h2>Errors</h2>
 * Decoding never throws anything but {@link MillraceException}: {@link ErrorCode#INVALID_REQUEST} for a malformed
 * frame in either direction (truncated field, trailing bytes, unknown apiKey, a count or length that is negative or
 * larger than the bytes left, a value out of range), {@link ErrorCode#FRAME_TOO_LARGE} ({@link FrameTooLargeException})
 * from the size checks. Counts and lengths are checked against the remaining bytes before anything is allocated, so
 * a hostile frame costs at most its own size in memory. Encoding a message that cannot be represented (a string over
 * 32767 UTF-8 bytes, a frame over 2 GiB) is a programming error and throws {@link IllegalArgumentException}.
 *
 * <h2>Reading a stream</h2>
 * A transport reads the 4-byte size, calls {@link #checkFrameSize} before buffering the body, then hands the
 * {@code size} bytes after the prefix to {@link #decodeRequest} (server) or {@link #decodeResponse} (client).
 * {@link #completeFrameSize} and {@link #nextFrame} do the same over a buffer that accumulates a byte stream. When a
 * request cannot be decoded, a server answers with {@link #encodeErrorResponse} using {@link #readHeader} and closes
 * the connection.
 *
 * <h2>Zero copy</h2>
 * Decoded {@code batches} are slices of the frame buffer, not copies: keep the frame's memory untouched while the
 * message is in use. {@link #encodePushHeader} and {@link #encodeFetchResponseHeaders} write everything but the batch
 * bytes, so a server can follow them with file regions sent by {@code sendfile}.
 *
 * <p>Stateless and thread-safe.
 */
public final class FrameCodec {

    /** Bytes of the size prefix. */
    public static final int SIZE_PREFIX_BYTES = 4;
    /** Bytes of apiKey and correlationId: the smallest legal value of the size field. */
    public static final int HEADER_BYTES = 6;
    /** The lowest protocol version this codec speaks. */
    public static final int MIN_VERSION = 1;
    /** The highest protocol version this codec speaks: the current version. */
    public static final int MAX_VERSION = 5;
    /**
     * The version from which a NOT_LEADER or FENCED_LEADER_EPOCH {@code error} is followed by the partition's current
     * leader ({@code leaderId int32, leaderEpoch int32}, -1 when unknown); see {@link ApiError#leader()}.
     */
    public static final int LEADER_HINT_VERSION = 3;
    /**
     * The version from which PRODUCE, FETCH and LIST_OFFSETS partitions and SUBSCRIBE carry {@code currentLeaderEpoch
     * int32}, the epoch the client believes the partition's leader has (-1 unknown).
     */
    public static final int LEADER_EPOCH_VERSION = 4;
    /**
     * The most bytes a frame that carries one record batch adds around it, with room for fields later versions may
     * add: a PUSH, the largest such frame, holds 6 header bytes, a topic name of up to 249 bytes with its length,
     * partition, high watermark, error and batches length, 277 bytes. A batch larger than the receiver's
     * {@code maxFrameBytes} less this cannot be produced or fetched in any frame.
     */
    public static final int MAX_BATCH_FRAME_OVERHEAD_BYTES = 512;
    /** A sensible default for a peer's {@code maxFrameBytes}: 16 MiB. */
    public static final int DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

    /** Bytes of an empty response header: errorCode 0 and a null message. */
    private static final int RESPONSE_HEADER_BYTES = 4;

    private FrameCodec() {
    }

    // ---------------------------------------------------------------- framing

    /**
     * Checks a frame's size field as soon as it is read, before the body is buffered.
     *
     * @param size          the size field: bytes after the prefix
     * @param maxFrameBytes the receiver's limit, at least {@value #HEADER_BYTES}
     * @return {@code size}
     * @throws MillraceException      with {@link ErrorCode#INVALID_REQUEST} if {@code size} is below
     *                                {@value #HEADER_BYTES} (negative included)
     * @throws FrameTooLargeException if {@code size} exceeds {@code maxFrameBytes}
     */
    public static int checkFrameSize(int size, int maxFrameBytes) {
        if (maxFrameBytes < HEADER_BYTES) {
            throw new IllegalArgumentException("maxFrameBytes must be >= " + HEADER_BYTES + ", was " + maxFrameBytes);
        }
        if (size < HEADER_BYTES) {
            throw new MillraceException(ErrorCode.INVALID_REQUEST, "Malformed frame: size field " + size
                    + " is below the " + HEADER_BYTES + "-byte frame header");
        }
        if (size > maxFrameBytes) {
            throw new FrameTooLargeException(size, maxFrameBytes);
        }
        return size;
    }

    /**
     * Looks at the start of a buffer accumulating a byte stream (from its position to its limit, which do not move)
     * and tells whether it holds a whole frame. The size field is checked as soon as its 4 bytes are there, so an
     * oversized or malformed frame fails before its body arrives.
     *
     * @return the first frame's size field (the frame then occupies {@code 4 + size} bytes from the position), or
     *         empty if more bytes are needed
     * @throws MillraceException as {@link #checkFrameSize}
     */
    public static OptionalInt completeFrameSize(ByteBuffer stream, int maxFrameBytes) {
        int available = stream.remaining();
        if (available < SIZE_PREFIX_BYTES) {
            return OptionalInt.empty();
        }
        int p = stream.position();
        // Byte by byte, so the caller's byte order does not matter.
        int size = (stream.get(p) & 0xff) << 24 | (stream.get(p + 1) & 0xff) << 16
                | (stream.get(p + 2) & 0xff) << 8 | (stream.get(p + 3) & 0xff);
        checkFrameSize(size, maxFrameBytes);
        return available - SIZE_PREFIX_BYTES >= size ? OptionalInt.of(size) : OptionalInt.empty();
    }

    /**
     * Takes the first whole frame off a buffer accumulating a byte stream: if {@link #completeFrameSize} finds one,
     * returns a slice of its bytes after the size prefix (sharing the content) and moves {@code stream}'s position
     * past it.
     *
     * @return the frame for {@link #decodeRequest} or {@link #decodeResponse}, or empty if more bytes are needed
     * @throws MillraceException as {@link #checkFrameSize}
     */
    public static Optional<ByteBuffer> nextFrame(ByteBuffer stream, int maxFrameBytes) {
        OptionalInt size = completeFrameSize(stream, maxFrameBytes);
        if (size.isEmpty()) {
            return Optional.empty();
        }
        int start = stream.position() + SIZE_PREFIX_BYTES;
        ByteBuffer frame = stream.slice(start, size.getAsInt());
        stream.position(start + size.getAsInt());
        return Optional.of(frame);
    }

    /**
     * Reads the apiKey and correlation id of a frame (its bytes after the size prefix) without decoding the rest.
     *
     * @throws MillraceException with {@link ErrorCode#INVALID_REQUEST} if fewer than {@value #HEADER_BYTES} bytes
     */
    public static FrameHeader readHeader(ByteBuffer frame) {
        WireReader r = new WireReader(frame);
        return new FrameHeader(r.int16("apiKey"), r.int32("correlationId"));
    }

    // ---------------------------------------------------------------- decoding

    /**
     * Decodes a frame a client sent: its bytes after the size prefix, from position to limit (which do not move).
     * Batches in the result are slices of {@code frame}.
     *
     * @throws MillraceException with {@link ErrorCode#INVALID_REQUEST} if the frame is malformed, its apiKey unknown,
     *                           or it is a PUSH
     */
    public static Frame<Request> decodeRequest(ByteBuffer frame) {
        return decodeRequest(frame, MAX_VERSION);
    }

    /**
     * Decodes a frame a client sent on a connection that negotiated protocol {@code version}: request layouts depend
     * on it (leader epochs from {@value #LEADER_EPOCH_VERSION}). Before the handshake a server decodes with
     * {@value #MIN_VERSION}; HANDSHAKE reads the same in every version. Otherwise as
     * {@link #decodeRequest(ByteBuffer)}.
     */
    public static Frame<Request> decodeRequest(ByteBuffer frame, int version) {
        WireReader r = new WireReader(frame, version);
        FrameHeader header = new FrameHeader(r.int16("apiKey"), r.int32("correlationId"));
        ApiKey key = knownKey(header);
        r.describing(key + " request");
        Request request = decodeBody(r, () -> switch (key) {
            case HANDSHAKE -> HandshakeRequest.read(r);
            case METADATA -> MetadataRequest.read(r);
            case PRODUCE -> ProduceRequest.read(r);
            case FETCH -> FetchRequest.read(r);
            case LIST_OFFSETS -> ListOffsetsRequest.read(r);
            case SUBSCRIBE -> SubscribeRequest.read(r);
            case CREDIT -> CreditRequest.read(r);
            case UNSUBSCRIBE -> UnsubscribeRequest.read(r);
            case PUSH -> throw new MillraceException(ErrorCode.INVALID_REQUEST,
                    "Malformed request: apiKey " + key.id() + " (PUSH) is sent only by servers");
            case CREATE_TOPIC -> CreateTopicRequest.read(r);
            case DELETE_TOPIC -> DeleteTopicRequest.read(r);
            case DESCRIBE_TOPIC -> DescribeTopicRequest.read(r);
            case LIST_TOPICS -> ListTopicsRequest.read(r);
            case ADD_PARTITIONS -> AddPartitionsRequest.read(r);
            case INIT_PRODUCER_ID -> InitProducerIdRequest.read(r);
            case JOIN_GROUP -> JoinGroupRequest.read(r);
            case HEARTBEAT -> HeartbeatRequest.read(r);
            case LEAVE_GROUP -> LeaveGroupRequest.read(r);
            case COMMIT_OFFSETS -> CommitOffsetsRequest.read(r);
            case FETCH_OFFSETS -> FetchOffsetsRequest.read(r);
            case LIST_GROUPS -> ListGroupsRequest.read(r);
            case DESCRIBE_GROUP -> DescribeGroupRequest.read(r);
            case RESET_OFFSETS -> ResetOffsetsRequest.read(r);
            case DELETE_GROUP -> DeleteGroupRequest.read(r);
            case ALTER_REASSIGNMENTS -> AlterReassignmentsRequest.read(r);
            case LIST_REASSIGNMENTS -> ListReassignmentsRequest.read(r);
        });
        return new Frame<>(header.correlationId(), request);
    }

    /**
     * Decodes a frame a server sent: its bytes after the size prefix, from position to limit (which do not move).
     * Batches in the result are slices of {@code frame}.
     *
     * @return a frame whose message is a {@link Push} if the apiKey is PUSH, else a {@link Response} (an
     *         {@link ErrorResponse} if the error code is not 0)
     * @throws MillraceException with {@link ErrorCode#INVALID_REQUEST} if the frame is malformed, its apiKey unknown,
     *                           or it is a CREDIT (which has no response)
     */
    public static Frame<Message> decodeResponse(ByteBuffer frame) {
        return decodeResponse(frame, MAX_VERSION);
    }

    /**
     * Decodes a frame a server sent on a connection that negotiated protocol {@code version}: the layout of
     * {@code error} fields depends on it (leader hints from {@value #LEADER_HINT_VERSION}). Otherwise as
     * {@link #decodeResponse(ByteBuffer)}.
     */
    public static Frame<Message> decodeResponse(ByteBuffer frame, int version) {
        WireReader r = new WireReader(frame, version);
        FrameHeader header = new FrameHeader(r.int16("apiKey"), r.int32("correlationId"));
        ApiKey key = knownKey(header);
        if (key == ApiKey.PUSH) {
            r.describing("PUSH");
            return new Frame<>(header.correlationId(), decodeBody(r, () -> Push.read(r)));
        }
        if (!key.hasResponse()) {
            throw new MillraceException(ErrorCode.INVALID_REQUEST,
                    "Malformed response: apiKey " + key.id() + " (" + key + ") has no response");
        }
        r.describing(key + " response");
        Optional<ApiError> error = r.error("errorCode");
        if (error.isPresent()) {
            r.ensureConsumed();
            return new Frame<>(header.correlationId(), new ErrorResponse(key, error.get()));
        }
        Response response = decodeBody(r, () -> switch (key) {
            case HANDSHAKE -> HandshakeResponse.read(r);
            case METADATA -> MetadataResponse.read(r);
            case PRODUCE -> ProduceResponse.read(r);
            case FETCH -> FetchResponse.read(r);
            case LIST_OFFSETS -> ListOffsetsResponse.read(r);
            case SUBSCRIBE -> SubscribeResponse.read(r);
            case UNSUBSCRIBE -> UnsubscribeResponse.read(r);
            case CREATE_TOPIC -> CreateTopicResponse.read(r);
            case DELETE_TOPIC -> DeleteTopicResponse.read(r);
            case DESCRIBE_TOPIC -> DescribeTopicResponse.read(r);
            case LIST_TOPICS -> ListTopicsResponse.read(r);
            case ADD_PARTITIONS -> AddPartitionsResponse.read(r);
            case INIT_PRODUCER_ID -> InitProducerIdResponse.read(r);
            case JOIN_GROUP -> JoinGroupResponse.read(r);
            case FETCH_OFFSETS -> FetchOffsetsResponse.read(r);
            case LIST_GROUPS -> ListGroupsResponse.read(r);
            case DESCRIBE_GROUP -> DescribeGroupResponse.read(r);
            case ALTER_REASSIGNMENTS -> AlterReassignmentsResponse.read(r);
            case LIST_REASSIGNMENTS -> ListReassignmentsResponse.read(r);
            case HEARTBEAT, LEAVE_GROUP, COMMIT_OFFSETS, RESET_OFFSETS, DELETE_GROUP -> new GroupAckResponse(key);
            case CREDIT, PUSH -> throw new IllegalStateException("unreachable: " + key);
        });
        return new Frame<>(header.correlationId(), response);
    }

    private static ApiKey knownKey(FrameHeader header) {
        return header.knownApiKey().orElseThrow(() -> new MillraceException(ErrorCode.INVALID_REQUEST,
                "Malformed frame: unknown apiKey " + header.apiKey() + " (this broker speaks protocol versions "
                        + MIN_VERSION + " to " + MAX_VERSION + ")"));
    }

    /** Runs a body reader, turning the record constructors' range checks into INVALID_REQUEST. */
    private static <M extends Message> M decodeBody(WireReader r, BodyReader<M> body) {
        M message;
        int at = r.offset();
        try {
            message = body.read();
        } catch (IllegalArgumentException e) {
            throw r.malformed(at, "body", "holds an invalid value: " + e.getMessage());
        }
        r.ensureConsumed();
        return message;
    }

    @FunctionalInterface
    private interface BodyReader<M> {
        M read();
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Encodes a frame, size prefix included.
     *
     * @return a heap buffer holding exactly the frame: position 0, limit the frame's length
     * @throws IllegalArgumentException if a string exceeds 32767 UTF-8 bytes or the frame 2 GiB
     */
    public static ByteBuffer encode(Frame<?> frame) {
        return encode(frame, MAX_VERSION);
    }

    /**
     * Encodes a frame in the layout of protocol {@code version}, the version the connection negotiated: a server
     * must answer a client in the client's version (leader hints only from {@value #LEADER_HINT_VERSION}).
     */
    public static ByteBuffer encode(Frame<?> frame, int version) {
        Message message = frame.message();
        return encodeFrame(frame.apiKey().id(), frame.correlationId(), w -> writeBody(w, message), 0, version);
    }

    /** Encodes a frame; the same as {@code encode(new Frame<>(correlationId, message))}. */
    public static ByteBuffer encode(int correlationId, Message message) {
        return encode(new Frame<>(correlationId, message));
    }

    /** Encodes a frame in the layout of protocol {@code version}; see {@link #encode(Frame, int)}. */
    public static ByteBuffer encode(int correlationId, Message message, int version) {
        return encode(new Frame<>(correlationId, message), version);
    }

    /**
     * Encodes an error response under a raw apiKey, for answering a frame that could not be decoded (the key may be
     * unknown to this version). Use {@link #readHeader} on the frame to learn its key and correlation id.
     */
    public static ByteBuffer encodeErrorResponse(short apiKey, int correlationId, ApiError error) {
        Objects.requireNonNull(error, "error");
        // The frame may come before any version was negotiated: written in the oldest layout, and never with a
        // leader hint (the refusals of a connection's framing are never about leadership).
        ApiError plain = new ApiError(error.code(), error.message());
        return encodeFrame(apiKey, correlationId, w -> w.error(Optional.of(plain)), 0, MIN_VERSION);
    }

    /**
     * Encodes a PUSH frame without its batches: everything up to and including the batches' length field, with a
     * size field that counts {@code batchesLength} more bytes. The caller sends exactly {@code batchesLength} bytes of
     * whole batches right after it; together they are the frame {@link #encode} writes for
     * {@code Push.of(topic, partition, highWatermark, batches)}.
     *
     * @param subscriptionId the subscription's id, written as the correlation id
     * @param batchesLength  bytes of batches to follow, >= 0
     */
    public static ByteBuffer encodePushHeader(int subscriptionId, String topic, int partition, long highWatermark,
            int batchesLength) {
        Objects.requireNonNull(topic, "topic");
        Require.nonNegative(partition, "partition");
        Require.nonNegative(batchesLength, "batchesLength");
        return encodeFrame(ApiKey.PUSH.id(), subscriptionId,
                w -> Push.writeHeader(w, topic, partition, highWatermark, Optional.empty(), batchesLength),
                batchesLength, MAX_VERSION);
    }

    /**
     * Encodes a FETCH response frame without its batches, as {@code partitions.size() + 1} buffers: the first holds
     * the size prefix, frame header, response header and partition count; buffer {@code i + 1} holds partition
     * {@code i}'s fields up to and including its batches' length field. The caller sends buffer 0, then for each
     * partition its buffer followed by exactly {@code batchesLength} bytes of whole batches; together they are the
     * frame {@link #encode} writes for the corresponding {@link FetchResponse}.
     *
     * @throws IllegalArgumentException if the whole frame would exceed 2 GiB
     */
    public static List<ByteBuffer> encodeFetchResponseHeaders(int correlationId,
            List<FetchResponse.PartitionHeader> partitions) {
        return encodeFetchResponseHeaders(correlationId, partitions, MAX_VERSION);
    }

    /** As {@link #encodeFetchResponseHeaders(int, List)}, in the layout of protocol {@code version}. */
    public static List<ByteBuffer> encodeFetchResponseHeaders(int correlationId,
            List<FetchResponse.PartitionHeader> partitions, int version) {
        List<ByteBuffer> buffers = new ArrayList<>(partitions.size() + 1);
        buffers.add(null); // the frame header, once the size is known
        long size = HEADER_BYTES + RESPONSE_HEADER_BYTES + 4;
        for (FetchResponse.PartitionHeader p : partitions) {
            ByteBuffer buffer = encodeExactly(p::write, version);
            buffers.add(buffer);
            size += buffer.remaining() + (long) p.batchesLength();
        }
        checkEncodable(size);
        ByteBuffer first = ByteBuffer.allocate(SIZE_PREFIX_BYTES + HEADER_BYTES + RESPONSE_HEADER_BYTES + 4);
        first.putInt((int) size).putShort(ApiKey.FETCH.id()).putInt(correlationId);
        WireWriter w = WireWriter.into(first);
        w.error(Optional.empty());
        w.count(partitions.size());
        buffers.set(0, first.flip());
        return buffers;
    }

    /**
     * Encodes a frame whose body {@code body} writes and after which the caller sends {@code trailingBytes} more.
     */
    private static ByteBuffer encodeFrame(short apiKey, int correlationId, Consumer<WireWriter> body,
            long trailingBytes, int version) {
        WireWriter counter = WireWriter.counting(version);
        body.accept(counter);
        long size = HEADER_BYTES + counter.size() + trailingBytes;
        checkEncodable(size);
        ByteBuffer buffer = ByteBuffer.allocate(SIZE_PREFIX_BYTES + HEADER_BYTES + (int) counter.size());
        buffer.putInt((int) size).putShort(apiKey).putInt(correlationId);
        body.accept(WireWriter.into(buffer, version));
        return checkFilled(buffer);
    }

    private static ByteBuffer encodeExactly(Consumer<WireWriter> body, int version) {
        WireWriter counter = WireWriter.counting(version);
        body.accept(counter);
        ByteBuffer buffer = ByteBuffer.allocate((int) counter.size());
        body.accept(WireWriter.into(buffer, version));
        return checkFilled(buffer);
    }

    private static ByteBuffer checkFilled(ByteBuffer buffer) {
        if (buffer.hasRemaining()) {
            // The counting and writing passes run the same code; a difference is a bug in this package.
            throw new IllegalStateException("Encoded " + buffer.position() + " bytes, sized " + buffer.capacity());
        }
        return buffer.flip();
    }

    private static void checkEncodable(long size) {
        if (size > Integer.MAX_VALUE - SIZE_PREFIX_BYTES) {
            throw new IllegalArgumentException("A frame of " + size + " bytes exceeds the format's 2 GiB limit");
        }
    }

    private static void writeBody(WireWriter w, Message message) {
        if (message instanceof Request request) {
            writeRequest(w, request);
        } else if (message instanceof Push push) {
            push.write(w);
        } else if (message instanceof ErrorResponse error) {
            w.error(Optional.of(error.error()));
        } else {
            w.error(Optional.empty());
            writeResponse(w, (Response) message);
        }
    }

    private static void writeRequest(WireWriter w, Request request) {
        switch (request.apiKey()) {
            case HANDSHAKE -> ((HandshakeRequest) request).write(w);
            case METADATA -> ((MetadataRequest) request).write(w);
            case PRODUCE -> ((ProduceRequest) request).write(w);
            case FETCH -> ((FetchRequest) request).write(w);
            case LIST_OFFSETS -> ((ListOffsetsRequest) request).write(w);
            case SUBSCRIBE -> ((SubscribeRequest) request).write(w);
            case CREDIT -> ((CreditRequest) request).write(w);
            case UNSUBSCRIBE -> ((UnsubscribeRequest) request).write(w);
            case CREATE_TOPIC -> ((CreateTopicRequest) request).write(w);
            case DELETE_TOPIC -> ((DeleteTopicRequest) request).write(w);
            case DESCRIBE_TOPIC -> ((DescribeTopicRequest) request).write(w);
            case LIST_TOPICS -> ((ListTopicsRequest) request).write(w);
            case ADD_PARTITIONS -> ((AddPartitionsRequest) request).write(w);
            case INIT_PRODUCER_ID -> ((InitProducerIdRequest) request).write(w);
            case JOIN_GROUP -> ((JoinGroupRequest) request).write(w);
            case HEARTBEAT -> ((HeartbeatRequest) request).write(w);
            case LEAVE_GROUP -> ((LeaveGroupRequest) request).write(w);
            case COMMIT_OFFSETS -> ((CommitOffsetsRequest) request).write(w);
            case FETCH_OFFSETS -> ((FetchOffsetsRequest) request).write(w);
            case LIST_GROUPS -> ((ListGroupsRequest) request).write(w);
            case DESCRIBE_GROUP -> ((DescribeGroupRequest) request).write(w);
            case RESET_OFFSETS -> ((ResetOffsetsRequest) request).write(w);
            case DELETE_GROUP -> ((DeleteGroupRequest) request).write(w);
            case ALTER_REASSIGNMENTS -> ((AlterReassignmentsRequest) request).write(w);
            case LIST_REASSIGNMENTS -> ((ListReassignmentsRequest) request).write(w);
            case PUSH -> throw new IllegalStateException("unreachable: no request has apiKey PUSH");
        }
    }

    private static void writeResponse(WireWriter w, Response response) {
        switch (response.apiKey()) {
            case HANDSHAKE -> ((HandshakeResponse) response).write(w);
            case METADATA -> ((MetadataResponse) response).write(w);
            case PRODUCE -> ((ProduceResponse) response).write(w);
            case FETCH -> ((FetchResponse) response).write(w);
            case LIST_OFFSETS -> ((ListOffsetsResponse) response).write(w);
            case SUBSCRIBE -> ((SubscribeResponse) response).write(w);
            case UNSUBSCRIBE -> ((UnsubscribeResponse) response).write(w);
            case CREATE_TOPIC -> ((CreateTopicResponse) response).write(w);
            case DELETE_TOPIC -> ((DeleteTopicResponse) response).write(w);
            case DESCRIBE_TOPIC -> ((DescribeTopicResponse) response).write(w);
            case LIST_TOPICS -> ((ListTopicsResponse) response).write(w);
            case ADD_PARTITIONS -> ((AddPartitionsResponse) response).write(w);
            case INIT_PRODUCER_ID -> ((InitProducerIdResponse) response).write(w);
            case JOIN_GROUP -> ((JoinGroupResponse) response).write(w);
            case FETCH_OFFSETS -> ((FetchOffsetsResponse) response).write(w);
            case LIST_GROUPS -> ((ListGroupsResponse) response).write(w);
            case DESCRIBE_GROUP -> ((DescribeGroupResponse) response).write(w);
            case ALTER_REASSIGNMENTS -> ((AlterReassignmentsResponse) response).write(w);
            case LIST_REASSIGNMENTS -> ((ListReassignmentsResponse) response).write(w);
            case HEARTBEAT, LEAVE_GROUP, COMMIT_OFFSETS, RESET_OFFSETS, DELETE_GROUP ->
                    ((GroupAckResponse) response).write(w);
            case CREDIT, PUSH -> throw new IllegalStateException("unreachable: " + response.apiKey()
                    + " has no response");
        }
    }

    // ---------------------------------------------------------------- versions

    /**
     * The version a server answers a handshake with: the highest both sides speak.
     *
     * @throws MillraceException with {@link ErrorCode#UNSUPPORTED_VERSION} if the ranges do not overlap
     */
    public static int negotiateVersion(HandshakeRequest request) {
        int chosen = Math.min(request.maxVersion(), MAX_VERSION);
        if (chosen < Math.max(request.minVersion(), MIN_VERSION)) {
            throw new MillraceException(ErrorCode.UNSUPPORTED_VERSION, "The client speaks protocol versions "
                    + request.minVersion() + " to " + request.maxVersion() + " and this broker " + MIN_VERSION
                    + " to " + MAX_VERSION + "; upgrade the " + (request.maxVersion() < MIN_VERSION ? "client"
                    : "broker"));
        }
        return chosen;
    }
}
