package io.millrace.protocol;

import io.millrace.common.ErrorCode;
import io.millrace.protocol.ProduceRequest.Acks;
import io.millrace.protocol.SubscribeRequest.StartPosition;
import io.millrace.record.CompressionType;
import io.millrace.record.Header;
import io.millrace.record.Record;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.params.provider.Arguments;

/** Sample frames covering every message type and the awkward field values: nulls, empty arrays, unicode, extremes. */
final class Samples {

    static final long T0 = 1_700_000_000_000L;
    static final String UNICODE = "主题-ünïcödé-🚀";

    private Samples() {
    }

    /** Records with null keys and values, headers, unicode header keys. */
    static List<Record> records(long baseOffset, int count) {
        List<Record> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] key = i % 3 == 0 ? null : ("key-" + i).getBytes(StandardCharsets.UTF_8);
            byte[] value = i % 5 == 4 ? null : ("value-" + i + "-" + UNICODE).getBytes(StandardCharsets.UTF_8);
            List<Header> headers = i % 2 == 0 ? List.of()
                    : List.of(new Header("trace", new byte[] {1, 2, 3}), new Header(UNICODE, null));
            records.add(new Record(baseOffset + i, T0 + i, key, value, headers));
        }
        return records;
    }

    /** One batch of {@code count} records. */
    static ByteBuffer batch(CompressionType compression, long baseOffset, int count) {
        RecordBatchBuilder builder = new RecordBatchBuilder(compression, TimestampType.CREATE_TIME, baseOffset);
        for (Record r : records(baseOffset, count)) {
            builder.append(r.timestamp(), r.key(), r.value(), r.headers());
        }
        return builder.build().buffer();
    }

    /** Several whole batches back to back, uncompressed and gzip, as a fetch or produce carries them. */
    static ByteBuffer batches() {
        ByteBuffer a = batch(CompressionType.NONE, 0, 3);
        ByteBuffer b = batch(CompressionType.GZIP, 3, 4);
        ByteBuffer c = batch(CompressionType.NONE, 7, 1);
        ByteBuffer all = ByteBuffer.allocate(a.remaining() + b.remaining() + c.remaining());
        return all.put(a).put(b).put(c).flip();
    }

    static ByteBuffer empty() {
        return ByteBuffer.allocate(0);
    }

    static ApiError error(ErrorCode code) {
        return ApiError.of(code);
    }

    static Arguments frame(String name, int correlationId, Message message) {
        return Arguments.of(name, new Frame<>(correlationId, message));
    }

    /** Every request type, several times over. */
    static List<Arguments> requests() {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("retention.ms", "86400000");
        config.put("cleanup.policy", "delete");
        config.put(UNICODE, "");
        return List.of(
                frame("HANDSHAKE current", 0, HandshakeRequest.of("sdk-1")),
                frame("HANDSHAKE range, empty client id", Integer.MAX_VALUE, new HandshakeRequest(0, 32767, "")),
                frame("HANDSHAKE unicode client id", Integer.MIN_VALUE, new HandshakeRequest(1, 3, UNICODE)),
                frame("METADATA all topics", 1, MetadataRequest.allTopics()),
                frame("METADATA no topics", 2, MetadataRequest.of(List.of())),
                frame("METADATA some topics", -1, MetadataRequest.of(List.of("orders", "", UNICODE))),
                frame("PRODUCE acks all", 3, new ProduceRequest(Acks.ALL, 30_000, "orders", List.of(
                        new ProduceRequest.PartitionData(0, batches()),
                        new ProduceRequest.PartitionData(7, batch(CompressionType.GZIP, 0, 2))))),
                frame("PRODUCE acks none, no partitions", 4, new ProduceRequest(Acks.NONE, 0, UNICODE, List.of())),
                frame("PRODUCE acks leader, empty batches", 5, new ProduceRequest(Acks.LEADER, Integer.MAX_VALUE,
                        "t", List.of(new ProduceRequest.PartitionData(Integer.MAX_VALUE, empty())))),
                frame("FETCH", 6, new FetchRequest(500, 1, 1 << 20, "orders", List.of(
                        new FetchRequest.PartitionFetch(0, 0, 1 << 16),
                        new FetchRequest.PartitionFetch(3, Long.MAX_VALUE, 0)))),
                frame("FETCH with leader epochs", 6, new FetchRequest(500, 1, 1 << 20, "orders", List.of(
                        new FetchRequest.PartitionFetch(0, 0, 0, 1 << 16),
                        new FetchRequest.PartitionFetch(3, Integer.MAX_VALUE, 9, 0)))),
                frame("PRODUCE with leader epochs", 3, new ProduceRequest(Acks.ALL, 30_000, "orders", List.of(
                        new ProduceRequest.PartitionData(0, 12, batches())))),
                frame("LIST_OFFSETS with leader epochs", 8, new ListOffsetsRequest("orders", List.of(
                        new ListOffsetsRequest.PartitionQuery(0, 3, T0)))),
                frame("SUBSCRIBE with a leader epoch", 10, new SubscribeRequest("orders", 0, 5,
                        StartPosition.offset(42), 10, 1024)),
                frame("FETCH no partitions", 7, new FetchRequest(0, 0, 0, "", List.of())),
                frame("LIST_OFFSETS", 8, new ListOffsetsRequest("orders", List.of(
                        new ListOffsetsRequest.PartitionQuery(0, ListOffsetsRequest.EARLIEST_TIMESTAMP),
                        new ListOffsetsRequest.PartitionQuery(1, ListOffsetsRequest.LATEST_TIMESTAMP),
                        new ListOffsetsRequest.PartitionQuery(2, T0)))),
                frame("LIST_OFFSETS no partitions", 9, new ListOffsetsRequest(UNICODE, List.of())),
                frame("SUBSCRIBE earliest", 10, new SubscribeRequest("orders", 0, StartPosition.earliest(), 0, 1)),
                frame("SUBSCRIBE latest", 11, new SubscribeRequest("orders", 1, StartPosition.latest(), 100, 65536)),
                frame("SUBSCRIBE offset", 12, new SubscribeRequest(UNICODE, 2, StartPosition.offset(Long.MAX_VALUE),
                        Integer.MAX_VALUE, Integer.MAX_VALUE)),
                frame("SUBSCRIBE timestamp", 13, new SubscribeRequest("orders", 3, StartPosition.timestamp(T0), 5,
                        1024)),
                frame("CREDIT", 14, new CreditRequest(10, 500)),
                frame("UNSUBSCRIBE", 15, new UnsubscribeRequest(10)),
                frame("CREATE_TOPIC", 16, new CreateTopicRequest("orders", 12, 3, config)),
                frame("CREATE_TOPIC no config", 17, new CreateTopicRequest(UNICODE, 1, 32767, Map.of())),
                frame("DELETE_TOPIC", 18, new DeleteTopicRequest("orders")),
                frame("DESCRIBE_TOPIC", 19, new DescribeTopicRequest(UNICODE)),
                frame("LIST_TOPICS", 20, new ListTopicsRequest()),
                frame("INIT_PRODUCER_ID", 22, new InitProducerIdRequest()),
                frame("ADD_PARTITIONS", 21, new AddPartitionsRequest("orders", 24)),
                frame("JOIN_GROUP new member", 30, new JoinGroupRequest("billing", "", "sdk-1", 10_000, 60_000,
                        "cooperative-sticky", List.of("orders", UNICODE))),
                frame("JOIN_GROUP no topics", 31, new JoinGroupRequest(UNICODE, "sdk-1-abc", "", 1, 1, "range",
                        List.of())),
                frame("HEARTBEAT", 32, new HeartbeatRequest("billing", "sdk-1-abc", 7)),
                frame("LEAVE_GROUP", 33, new LeaveGroupRequest("billing", "sdk-1-abc")),
                frame("COMMIT_OFFSETS", 34, new CommitOffsetsRequest("billing", "sdk-1-abc", 7, List.of(
                        new CommitOffsetsRequest.PartitionOffset("orders", 0, 42, ""),
                        new CommitOffsetsRequest.PartitionOffset(UNICODE, 3, Long.MAX_VALUE, UNICODE)))),
                frame("COMMIT_OFFSETS smallest elements", 34, new CommitOffsetsRequest("g", "m", 1, List.of(
                        new CommitOffsetsRequest.PartitionOffset("", 0, 0, ""),
                        new CommitOffsetsRequest.PartitionOffset("c", 1, 2, "")))),
                frame("COMMIT_OFFSETS without membership", 35, new CommitOffsetsRequest("billing", "", -1,
                        List.of())),
                frame("FETCH_OFFSETS", 36, new FetchOffsetsRequest("billing", List.of(
                        new TopicPartitions("orders", List.of(0, 1, 2)), new TopicPartitions(UNICODE, List.of())))),
                frame("FETCH_OFFSETS all", 37, new FetchOffsetsRequest("billing", List.of())),
                frame("LIST_GROUPS", 38, new ListGroupsRequest()),
                frame("DESCRIBE_GROUP", 39, new DescribeGroupRequest(UNICODE)),
                frame("RESET_OFFSETS", 40, new ResetOffsetsRequest("billing", List.of(
                        new CommitOffsetsRequest.PartitionOffset("orders", 1, 0, "")))),
                frame("DELETE_GROUP", 41, new DeleteGroupRequest("billing")),
                frame("ALTER_REASSIGNMENTS", 42, new AlterReassignmentsRequest(List.of(
                        new AlterReassignmentsRequest.Move("orders", 0, java.util.Optional.of(List.of(4, 2, 3))),
                        new AlterReassignmentsRequest.Move(UNICODE, 7, java.util.Optional.empty())))),
                frame("ALTER_REASSIGNMENTS empty", 43, new AlterReassignmentsRequest(List.of())),
                frame("LIST_REASSIGNMENTS", 44, new ListReassignmentsRequest()));
    }

    /** Every response type, error responses and pushes, several times over. */
    static List<Arguments> responses() {
        TopicDescription description = new TopicDescription("orders", 3,
                Map.of("retention.ms", "86400000", UNICODE, "✓"), List.of(
                        new TopicDescription.PartitionDescription(0, OptionalInt.of(1), 4, List.of(1, 2, 3),
                                List.of(1, 3), 0, 120, 118, 65_536),
                        new TopicDescription.PartitionDescription(1, OptionalInt.empty(), 0, List.of(2, 3, 1),
                                List.of(), -1, -1, -1, -1)));
        TopicDescription bare = new TopicDescription(UNICODE, 1, Map.of(), List.of());
        return List.of(
                frame("HANDSHAKE", 0, new HandshakeResponse(1, 0, FrameCodec.DEFAULT_MAX_FRAME_BYTES, 100)),
                frame("HANDSHAKE unsupported version", 0, new ErrorResponse(ApiKey.HANDSHAKE,
                        new ApiError(ErrorCode.UNSUPPORTED_VERSION, "The client speaks 2 to 3, this broker 1"))),
                frame("METADATA", 1, new MetadataResponse(
                        List.of(new MetadataResponse.Broker(0, "broker-0.local", 9092, 8080),
                                new MetadataResponse.Broker(1, "::1", -1, 8081)),
                        OptionalInt.of(0),
                        List.of(new MetadataResponse.TopicMetadata("orders", Optional.empty(), List.of(
                                        new MetadataResponse.PartitionMetadata(0, OptionalInt.of(1), 7,
                                                List.of(1, 0), List.of(1, 0)),
                                        new MetadataResponse.PartitionMetadata(1, OptionalInt.empty(), 0,
                                                List.of(0), List.of()))),
                                new MetadataResponse.TopicMetadata(UNICODE,
                                        Optional.of(error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)), List.of())))),
                frame("METADATA empty cluster", 2, new MetadataResponse(List.of(), OptionalInt.empty(), List.of())),
                frame("PRODUCE", 3, new ProduceResponse(List.of(
                        ProduceResponse.PartitionResult.success(0, 100, OptionalLong.empty(), 0),
                        ProduceResponse.PartitionResult.success(7, 0, OptionalLong.of(T0), 0),
                        ProduceResponse.PartitionResult.failure(8, new ApiError(ErrorCode.NOT_LEADER,
                                "Broker 2 leads orders-8 now"))))),
                frame("PRODUCE no partitions", 4, new ProduceResponse(List.of())),
                frame("PRODUCE failed as a whole", 5, new ErrorResponse(ApiKey.PRODUCE,
                        error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION))),
                frame("FETCH", 6, new FetchResponse(List.of(
                        new FetchResponse.PartitionData(0, Optional.empty(), 8, 0, batches()),
                        new FetchResponse.PartitionData(1, Optional.empty(), 0, 0, empty()),
                        FetchResponse.PartitionData.failure(2, error(ErrorCode.OFFSET_OUT_OF_RANGE))))),
                frame("FETCH no partitions", 7, new FetchResponse(List.of())),
                frame("LIST_OFFSETS", 8, new ListOffsetsResponse(List.of(
                        new ListOffsetsResponse.PartitionOffset(0, Optional.empty(), OptionalLong.of(0),
                                OptionalLong.empty()),
                        new ListOffsetsResponse.PartitionOffset(1, Optional.empty(), OptionalLong.of(42),
                                OptionalLong.of(T0)),
                        new ListOffsetsResponse.PartitionOffset(2, Optional.empty(), OptionalLong.empty(),
                                OptionalLong.empty()),
                        ListOffsetsResponse.PartitionOffset.failure(3, error(ErrorCode.NOT_LEADER))))),
                frame("SUBSCRIBE", 10, new SubscribeResponse(42)),
                frame("SUBSCRIBE failed", 11, new ErrorResponse(ApiKey.SUBSCRIBE,
                        new ApiError(ErrorCode.OFFSET_OUT_OF_RANGE, UNICODE))),
                frame("UNSUBSCRIBE", 15, new UnsubscribeResponse()),
                frame("CREATE_TOPIC", 16, new CreateTopicResponse(description)),
                frame("CREATE_TOPIC exists", 17, new ErrorResponse(ApiKey.CREATE_TOPIC,
                        error(ErrorCode.TOPIC_ALREADY_EXISTS))),
                frame("DELETE_TOPIC", 18, new DeleteTopicResponse()),
                frame("DESCRIBE_TOPIC", 19, new DescribeTopicResponse(bare)),
                frame("LIST_TOPICS", 20, new ListTopicsResponse(List.of("orders", "", UNICODE))),
                frame("LIST_TOPICS none", 21, new ListTopicsResponse(List.of())),
                frame("INIT_PRODUCER_ID", 22, new InitProducerIdResponse(4_000_000_000L, (short) 3)),
                frame("ADD_PARTITIONS", 22, new AddPartitionsResponse(description)),
                frame("JOIN_GROUP", 30, new JoinGroupResponse(3, "sdk-1-abc", "cooperative-sticky", true,
                        List.of(new TopicPartitions("orders", List.of(0, 2))),
                        List.of(new TopicPartitions("orders", List.of(1)), new TopicPartitions(UNICODE, List.of(0))))),
                frame("JOIN_GROUP nothing", 31, new JoinGroupResponse(1, "", "range", false, List.of(), List.of())),
                frame("JOIN_GROUP rebalancing", 31, new ErrorResponse(ApiKey.JOIN_GROUP,
                        error(ErrorCode.REBALANCE_IN_PROGRESS))),
                frame("HEARTBEAT", 32, new GroupAckResponse(ApiKey.HEARTBEAT)),
                frame("LEAVE_GROUP", 33, new GroupAckResponse(ApiKey.LEAVE_GROUP)),
                frame("COMMIT_OFFSETS", 34, new GroupAckResponse(ApiKey.COMMIT_OFFSETS)),
                frame("COMMIT_OFFSETS stale", 34, new ErrorResponse(ApiKey.COMMIT_OFFSETS,
                        error(ErrorCode.ILLEGAL_GENERATION))),
                frame("FETCH_OFFSETS", 36, new FetchOffsetsResponse(List.of(
                        new CommitOffsetsRequest.PartitionOffset("orders", 0, 42, UNICODE)))),
                frame("FETCH_OFFSETS smallest elements", 36, new FetchOffsetsResponse(List.of(
                        new CommitOffsetsRequest.PartitionOffset("", 0, 0, ""),
                        new CommitOffsetsRequest.PartitionOffset("", 1, 0, "")))),
                frame("LIST_GROUPS", 38, new ListGroupsResponse(List.of(
                        new ListGroupsResponse.Group("billing", "STABLE", 3, "range"),
                        new ListGroupsResponse.Group(UNICODE, "EMPTY", 0, null)))),
                frame("DESCRIBE_GROUP", 39, new DescribeGroupResponse("billing", "STABLE", 4, "roundrobin",
                        List.of(new DescribeGroupResponse.Member("sdk-1-abc", "sdk-1", "127.0.0.1",
                                List.of("orders"), List.of(new TopicPartitions("orders", List.of(0, 1))))),
                        List.of(new DescribeGroupResponse.PartitionLag("orders", 0, "sdk-1-abc", 10, 15, 5),
                                new DescribeGroupResponse.PartitionLag("orders", 1, null, -1, -1, -1)))),
                frame("DESCRIBE_GROUP empty", 39, new DescribeGroupResponse(UNICODE, "EMPTY", 0, null, List.of(),
                        List.of())),
                frame("RESET_OFFSETS", 40, new GroupAckResponse(ApiKey.RESET_OFFSETS)),
                frame("DELETE_GROUP", 41, new GroupAckResponse(ApiKey.DELETE_GROUP)),
                frame("ALTER_REASSIGNMENTS", 42, new AlterReassignmentsResponse(List.of(
                        new AlterReassignmentsResponse.Started("orders", 0, List.of(4, 2, 3))), 1)),
                frame("LIST_REASSIGNMENTS", 44, new ListReassignmentsResponse(List.of(
                        new ListReassignmentsResponse.Reassignment("orders", 0, List.of(1, 2, 3), List.of(4, 2, 3),
                                List.of(4, 2, 3, 1), List.of(2, 3, 1), 1, "CATCH_UP"),
                        new ListReassignmentsResponse.Reassignment(UNICODE, 1, List.of(1), List.of(2), List.of(2, 1),
                                List.of(1), -1, "ADD")))),
                frame("LIST_REASSIGNMENTS none", 45, new ListReassignmentsResponse(List.of())),
                frame("PUSH", 10, Push.of("orders", 0, 8, batches())),
                frame("PUSH high watermark only", 10, Push.of(UNICODE, 3, 0, empty())),
                frame("PUSH subscription ended", Integer.MIN_VALUE, Push.failure("orders", 0,
                        error(ErrorCode.NOT_LEADER))));
    }

    /** The frames of {@link #requests()} as they come off the wire, size prefix excluded. */
    static List<ByteBuffer> encodedRequestBodies() {
        return encodedBodies(requests());
    }

    static List<ByteBuffer> encodedResponseBodies() {
        return encodedBodies(responses());
    }

    private static List<ByteBuffer> encodedBodies(List<Arguments> frames) {
        List<ByteBuffer> bodies = new ArrayList<>();
        for (Arguments a : frames) {
            ByteBuffer encoded = FrameCodec.encode((Frame<?>) a.get()[1]);
            bodies.add(encoded.position(FrameCodec.SIZE_PREFIX_BYTES).slice());
        }
        return bodies;
    }
}
