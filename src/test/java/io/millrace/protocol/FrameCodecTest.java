package io.millrace.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.protocol.ProduceRequest.Acks;
import io.millrace.record.CompressionType;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class FrameCodecTest {

    static Stream<Arguments> requests() {
        return Samples.requests().stream();
    }

    static Stream<Arguments> responses() {
        return Samples.responses().stream();
    }

    /** The bytes after the size prefix. */
    static ByteBuffer body(ByteBuffer encoded) {
        assertThat(encoded.position()).isZero();
        assertThat(encoded.getInt(0)).as("size field").isEqualTo(encoded.remaining() - 4);
        return encoded.slice(4, encoded.remaining() - 4);
    }

    static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("requests")
    void requestsRoundTrip(String name, Frame<Request> frame) {
        ByteBuffer encoded = FrameCodec.encode(frame);

        Frame<Request> decoded = FrameCodec.decodeRequest(body(encoded));

        assertThat(decoded).isEqualTo(frame);
        assertThat(decoded.apiKey()).isEqualTo(frame.message().apiKey());
        assertThat(bytes(FrameCodec.encode(decoded))).as("re-encoded").isEqualTo(bytes(encoded));
        assertThat(FrameCodec.readHeader(body(encoded)))
                .isEqualTo(new FrameHeader(frame.apiKey().id(), frame.correlationId()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("responses")
    void responsesAndPushesRoundTrip(String name, Frame<Message> frame) {
        ByteBuffer encoded = FrameCodec.encode(frame);

        Frame<Message> decoded = FrameCodec.decodeResponse(body(encoded));

        assertThat(decoded).isEqualTo(frame);
        assertThat(bytes(FrameCodec.encode(decoded))).as("re-encoded").isEqualTo(bytes(encoded));
    }

    @Test
    void everyApiKeyHasASampleInEachDirection() {
        List<ApiKey> requestKeys = requests().map(a -> ((Frame<?>) a.get()[1]).apiKey()).toList();
        List<ApiKey> responseKeys = responses()
                .map(a -> ((Frame<?>) a.get()[1]))
                .filter(f -> !(f.message() instanceof ErrorResponse))
                .map(Frame::apiKey).toList();
        for (ApiKey key : ApiKey.values()) {
            if (key.sentByClient()) {
                assertThat(requestKeys).as("requests").contains(key);
            }
            if (key.hasResponse() || key == ApiKey.PUSH) {
                assertThat(responseKeys).as("responses").contains(key);
            }
        }
    }

    @Test
    void frameHeaderIsBigEndianSizeApiKeyCorrelationId() {
        ByteBuffer encoded = FrameCodec.encode(0x01020304, new DeleteTopicRequest("ab"));

        assertThat(bytes(encoded)).containsExactly(
                0, 0, 0, 10,        // size: 6 header + 4 body
                0, 10,              // apiKey DELETE_TOPIC
                1, 2, 3, 4,         // correlationId
                0, 2, 'a', 'b');    // string "ab"
    }

    @Test
    void successfulResponseHeaderIsCodeZeroAndNullMessage() {
        ByteBuffer encoded = FrameCodec.encode(7, new SubscribeResponse(1));

        assertThat(bytes(encoded)).containsExactly(
                0, 0, 0, 18, 0, 5, 0, 0, 0, 7,
                0, 0,               // errorCode 0: none
                -1, -1,             // errorMessage null
                0, 0, 0, 0, 0, 0, 0, 1);
    }

    @Test
    void errorResponseHasNoBody() {
        ByteBuffer encoded = FrameCodec.encode(9, new ErrorResponse(ApiKey.FETCH,
                new ApiError(ErrorCode.NOT_LEADER, "x")), 2);

        assertThat(bytes(encoded)).containsExactly(0, 0, 0, 11, 0, 3, 0, 0, 0, 9, 0, 8, 0, 1, 'x');
    }

    @Test
    void fromVersion3NotLeaderCarriesTheLeaderAfterItsMessage() {
        ApiError hinted = new ApiError(ErrorCode.NOT_LEADER, "x").withLeader(new ApiError.LeaderHint(2, 7));
        ByteBuffer encoded = FrameCodec.encode(9, new ErrorResponse(ApiKey.SUBSCRIBE, hinted), 3);

        assertThat(bytes(encoded)).containsExactly(0, 0, 0, 19, 0, 5, 0, 0, 0, 9, 0, 8, 0, 1, 'x',
                0, 0, 0, 2,         // leaderId 2
                0, 0, 0, 7);        // leaderEpoch 7
        assertThat(FrameCodec.decodeResponse(body(encoded), 3).message())
                .isEqualTo(new ErrorResponse(ApiKey.SUBSCRIBE, hinted));
    }

    @Test
    void anUnknownLeaderIsSentAsMinusOneAndDecodesAsNoHint() {
        ApiError fenced = new ApiError(ErrorCode.FENCED_LEADER_EPOCH, "x");
        ByteBuffer encoded = FrameCodec.encode(9, new ErrorResponse(ApiKey.FETCH, fenced), 3);

        assertThat(bytes(encoded)).endsWith(0, 21, 0, 1, 'x', -1, -1, -1, -1, -1, -1, -1, -1);
        assertThat(FrameCodec.decodeResponse(body(encoded), 3).message()).isEqualTo(new ErrorResponse(ApiKey.FETCH,
                fenced));
    }

    @Test
    void versions1And2NeverSeeALeaderHint() {
        ApiError hinted = new ApiError(ErrorCode.NOT_LEADER, "x").withLeader(new ApiError.LeaderHint(2, 7));
        Push push = Push.failure("t", 0, hinted);
        ByteBuffer v2 = FrameCodec.encode(4, push, 2);

        assertThat(FrameCodec.decodeResponse(body(v2), 2).message())
                .isEqualTo(Push.failure("t", 0, new ApiError(ErrorCode.NOT_LEADER, "x")));
        assertThat(bytes(v2)).hasSize(bytes(FrameCodec.encode(4, push, 3)).length - 8);
    }

    @Test
    void leaderHintsTravelInPartitionErrorsAndPushes() {
        ApiError hinted = new ApiError(ErrorCode.NOT_LEADER, null).withLeader(new ApiError.LeaderHint(1, 3));
        List<Message> messages = List.of(
                new ProduceResponse(List.of(ProduceResponse.PartitionResult.failure(0, hinted))),
                new ListOffsetsResponse(List.of(ListOffsetsResponse.PartitionOffset.failure(4, hinted))),
                Push.failure("t", 2, hinted));
        for (Message message : messages) {
            assertThat(FrameCodec.decodeResponse(body(FrameCodec.encode(5, message, 3)), 3).message())
                    .isEqualTo(message);
        }
    }

    @Test
    void onlyNotLeaderAndFencedLeaderEpochCarryALeader() {
        assertThatThrownBy(() -> new ApiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "x")
                .withLeader(new ApiError.LeaderHint(1, 1))).isInstanceOf(IllegalArgumentException.class);
        ByteBuffer unknown = FrameCodec.encode(1, new ErrorResponse(ApiKey.FETCH,
                new ApiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "x")), 3);
        assertThat(bytes(unknown)).containsExactly(0, 0, 0, 11, 0, 3, 0, 0, 0, 1, 0, 7, 0, 1, 'x');
    }

    @Test
    void aLeaderHintBelowMinusOneIsMalformed() {
        ByteBuffer frame = new RawFrame().int16(ApiKey.FETCH.id()).int32(1).int16(ErrorCode.NOT_LEADER.code())
                .int16(-1).int32(-2).int32(0).build();
        assertThatThrownBy(() -> FrameCodec.decodeResponse(frame, 3)).isInstanceOf(MillraceException.class)
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
    }

    @Test
    void fromVersion4SubscribeCarriesTheLeaderEpochAfterThePartition() {
        SubscribeRequest request = new SubscribeRequest("t", 1, 7, SubscribeRequest.StartPosition.earliest(), 5, 9);
        ByteBuffer encoded = FrameCodec.encode(3, request, 4);

        assertThat(bytes(encoded)).containsExactly(0, 0, 0, 34, 0, 5, 0, 0, 0, 3,
                0, 1, 't',          // topic
                0, 0, 0, 1,         // partition 1
                0, 0, 0, 7,         // currentLeaderEpoch 7
                0,                  // startKind earliest
                0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 5,         // initialCredits
                0, 0, 0, 9);        // maxBytesPerPush
        assertThat(FrameCodec.decodeRequest(body(encoded), 4).message()).isEqualTo(request);
    }

    @Test
    void fromVersion4EveryPartitionOfProduceFetchAndListOffsetsCarriesItsLeaderEpoch() {
        List<Request> requests = List.of(
                new ProduceRequest(Acks.ALL, 100, "t", List.of(
                        new ProduceRequest.PartitionData(0, 7, Samples.batch(CompressionType.NONE, 0, 2)),
                        new ProduceRequest.PartitionData(1, -1, Samples.batch(CompressionType.NONE, 0, 1)))),
                new FetchRequest(10, 1, 100, "t", List.of(new FetchRequest.PartitionFetch(0, 7, 5, 100),
                        new FetchRequest.PartitionFetch(1, 0, 6, 100))),
                new ListOffsetsRequest("t", List.of(new ListOffsetsRequest.PartitionQuery(0, 7, -2),
                        new ListOffsetsRequest.PartitionQuery(1, Integer.MAX_VALUE, 5))),
                new SubscribeRequest("t", 0, 0, SubscribeRequest.StartPosition.offset(3), 1, 1));
        for (Request request : requests) {
            ByteBuffer v4 = FrameCodec.encode(2, request, 4);
            ByteBuffer v3 = FrameCodec.encode(2, request, 3);

            assertThat(FrameCodec.decodeRequest(body(v4), 4).message()).as("v4 " + request.apiKey())
                    .isEqualTo(request);
            int partitions = request instanceof SubscribeRequest ? 1 : 2;
            assertThat(v3.remaining()).as("v3 " + request.apiKey() + ": no epochs").isEqualTo(v4.remaining()
                    - 4 * partitions);
        }
        ListOffsetsRequest listOffsets = (ListOffsetsRequest) requests.get(2);
        assertThat(bytes(FrameCodec.encode(2, listOffsets, 4))).containsExactly(0, 0, 0, 45, 0, 4, 0, 0, 0, 2,
                0, 1, 't', 0, 0, 0, 2,
                0, 0, 0, 0, 0, 0, 0, 7, -1, -1, -1, -1, -1, -1, -1, -2,     // partition 0, epoch 7, earliest
                0, 0, 0, 1, 127, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 5);       // partition 1, epoch 2^31-1, time 5
    }

    @Test
    void theVersion4ExampleOfProtocolMdIsWhatTheCodecWrites() {
        ListOffsetsRequest request = new ListOffsetsRequest("t", List.of(new ListOffsetsRequest.PartitionQuery(0, 7,
                ListOffsetsRequest.EARLIEST_TIMESTAMP)));

        assertThat(bytes(FrameCodec.encode(2, request, 4))).containsExactly(0, 0, 0, 0x1d, 0, 4, 0, 0, 0, 2,
                0, 1, 't', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, -1, -1, -1, -1, -1, -1, -1, -2);
    }

    @Test
    void version3RequestsAreUnchangedAndCarryNoLeaderEpoch() {
        // The version 3 layout, byte for byte: partition, then timestamp; no epoch field.
        ByteBuffer v3 = new RawFrame().int16(ApiKey.LIST_OFFSETS.id()).int32(2).string("t").int32(1)
                .int32(0).int64(-1).build();
        ListOffsetsRequest withEpoch = new ListOffsetsRequest("t", List.of(
                new ListOffsetsRequest.PartitionQuery(0, 7, -1)));

        assertThat(FrameCodec.decodeRequest(v3, 3).message()).isEqualTo(new ListOffsetsRequest("t", List.of(
                new ListOffsetsRequest.PartitionQuery(0, -1, -1))));
        assertThat(bytes(body(FrameCodec.encode(2, withEpoch, 3)))).as("the epoch is dropped on a v3 connection")
                .isEqualTo(bytes(v3));
        SubscribeRequest subscribe = new SubscribeRequest("t", 0, 7, SubscribeRequest.StartPosition.latest(), 1, 1);
        assertThat(FrameCodec.decodeRequest(body(FrameCodec.encode(2, subscribe, 3)), 3).message())
                .isEqualTo(new SubscribeRequest("t", 0, SubscribeRequest.StartPosition.latest(), 1, 1));
        assertThatThrownBy(() -> FrameCodec.decodeRequest(v3, 4)).as("a v3 frame read as v4 is short")
                .isInstanceOf(MillraceException.class);
    }

    @Test
    void aLeaderEpochBelowMinusOneIsMalformed() {
        ByteBuffer frame = new RawFrame().int16(ApiKey.FETCH.id()).int32(1).int32(0).int32(0).int32(0).string("t")
                .int32(1).int32(0).int32(-2).int64(0).int32(0).build();

        assertThatThrownBy(() -> FrameCodec.decodeRequest(frame, 4)).isInstanceOf(MillraceException.class)
                .hasMessageContaining("currentLeaderEpoch")
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThatThrownBy(() -> new SubscribeRequest("t", 0, -2, SubscribeRequest.StartPosition.latest(), 1, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void errorWithNullMessageOnTheWireTakesTheCodesDescription() {
        ByteBuffer frame = new RawFrame().int16(ApiKey.DELETE_TOPIC.id()).int32(1)
                .int16(ErrorCode.TOPIC_ALREADY_EXISTS.code()).int16(-1).build();

        Message message = FrameCodec.decodeResponse(frame).message();

        assertThat(message).isEqualTo(new ErrorResponse(ApiKey.DELETE_TOPIC,
                new ApiError(ErrorCode.TOPIC_ALREADY_EXISTS, ErrorCode.TOPIC_ALREADY_EXISTS.description())));
    }

    @Test
    void unknownErrorCodeDecodesAsUnknown() {
        ByteBuffer frame = new RawFrame().int16(ApiKey.DELETE_TOPIC.id()).int32(1).int16(999).string("new").build();

        ErrorResponse error = (ErrorResponse) FrameCodec.decodeResponse(frame).message();

        assertThat(error.error()).isEqualTo(new ApiError(ErrorCode.UNKNOWN, "new"));
    }

    @Test
    void producedBatchesArriveByteForByteAndStillValidate() {
        ByteBuffer batches = Samples.batches();
        byte[] original = bytes(batches);
        Frame<Request> frame = new Frame<>(1, new ProduceRequest(Acks.ALL, 1000, "t",
                List.of(new ProduceRequest.PartitionData(0, batches))));

        ProduceRequest decoded = (ProduceRequest) FrameCodec.decodeRequest(body(FrameCodec.encode(frame))).message();

        ByteBuffer received = decoded.partitions().get(0).batches();
        assertThat(bytes(received)).isEqualTo(original);
        List<RecordBatch> split = RecordBatches.split(received);
        assertThat(split).hasSize(3);
        List<Record> records = new ArrayList<>();
        for (RecordBatch batch : split) {
            batch.ensureValid();
            records.addAll(batch.records());
        }
        List<Record> expected = new ArrayList<>(Samples.records(0, 3));
        expected.addAll(Samples.records(3, 4));
        expected.addAll(Samples.records(7, 1));
        assertThat(records).isEqualTo(expected);
        assertThat(bytes(batches)).as("the encoder does not consume the caller's buffer").isEqualTo(original);
    }

    @Test
    void decodedBatchesAreSlicesOfTheFrameNotCopies() {
        ByteBuffer encoded = FrameCodec.encode(1, Push.of("t", 0, 3, Samples.batch(CompressionType.NONE, 0, 2)));
        ByteBuffer frame = body(encoded);

        Push push = (Push) FrameCodec.decodeResponse(frame).message();

        ByteBuffer batches = push.batches();
        assertThat(batches.hasArray()).isTrue();
        assertThat(batches.array()).isSameAs(encoded.array());
        int at = batches.arrayOffset();
        encoded.array()[at + RecordBatch.BASE_OFFSET_OFFSET + 7] = 42;
        assertThat(push.recordBatches().get(0).baseOffset()).isEqualTo(42);
    }

    @Test
    void batchesAccessorNeverMovesTheMessagesBytes() {
        Push push = Push.of("t", 0, 3, Samples.batches());
        int length = push.batches().remaining();

        push.batches().position(length);

        assertThat(push.batches().remaining()).isEqualTo(length);
        assertThat(FrameCodec.encode(1, push)).isEqualTo(FrameCodec.encode(1, Push.of("t", 0, 3, Samples.batches())));
    }

    @ParameterizedTest(name = "{0} batches")
    @ValueSource(ints = {0, 1, 2})
    void pushHeaderFollowedByRawBatchesIsTheFullFrame(int batchCount) {
        ByteBuffer batches = batchCount == 0 ? Samples.empty()
                : batchCount == 1 ? Samples.batch(CompressionType.GZIP, 5, 3) : Samples.batches();
        Push push = Push.of(Samples.UNICODE, 4, 99, batches);

        ByteBuffer header = FrameCodec.encodePushHeader(77, Samples.UNICODE, 4, 99, batches.remaining());

        byte[] wire = concat(List.of(header, batches));
        assertThat(wire).isEqualTo(bytes(FrameCodec.encode(77, push)));
        assertThat(FrameCodec.decodeResponse(body(ByteBuffer.wrap(wire)))).isEqualTo(new Frame<>(77, push));
    }

    static Stream<Arguments> fetchResponses() {
        return Stream.of(
                Arguments.of("no partitions", List.of()),
                Arguments.of("one partition", List.of(
                        new FetchResponse.PartitionData(0, Optional.empty(), 8, 0, Samples.batches()))),
                Arguments.of("data, empty, error, data", List.of(
                        new FetchResponse.PartitionData(0, Optional.empty(), 8, 0, Samples.batches()),
                        new FetchResponse.PartitionData(1, Optional.empty(), 0, 0, Samples.empty()),
                        FetchResponse.PartitionData.failure(2, ApiError.of(ErrorCode.NOT_LEADER)),
                        new FetchResponse.PartitionData(3, Optional.empty(), 9, 1,
                                Samples.batch(CompressionType.GZIP, 1, 8)))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fetchResponses")
    void fetchHeadersInterleavedWithRawBatchesAreTheFullFrame(String name,
            List<FetchResponse.PartitionData> partitions) {
        FetchResponse response = new FetchResponse(partitions);

        List<ByteBuffer> headers = FrameCodec.encodeFetchResponseHeaders(5,
                partitions.stream().map(FetchResponse.PartitionData::header).toList());

        assertThat(headers).hasSize(partitions.size() + 1);
        List<ByteBuffer> wire = new ArrayList<>();
        wire.add(headers.get(0));
        for (int i = 0; i < partitions.size(); i++) {
            wire.add(headers.get(i + 1));
            wire.add(partitions.get(i).batches());
        }
        byte[] bytes = concat(wire);
        assertThat(bytes).isEqualTo(bytes(FrameCodec.encode(5, response)));
        assertThat(FrameCodec.decodeResponse(body(ByteBuffer.wrap(bytes)))).isEqualTo(new Frame<>(5, response));
    }

    static byte[] concat(List<ByteBuffer> buffers) {
        int length = buffers.stream().mapToInt(ByteBuffer::remaining).sum();
        ByteBuffer all = ByteBuffer.allocate(length);
        buffers.forEach(b -> all.put(b.duplicate()));
        return all.array();
    }

    @Test
    void headerEncodersRejectFramesOverTwoGibibytes() {
        assertThatThrownBy(() -> FrameCodec.encodePushHeader(1, "t", 0, 0, Integer.MAX_VALUE - 20))
                .isInstanceOf(IllegalArgumentException.class);
        FetchResponse.PartitionHeader big = new FetchResponse.PartitionHeader(0, Optional.empty(), 0, 0,
                Integer.MAX_VALUE / 2);
        assertThatThrownBy(() -> FrameCodec.encodeFetchResponseHeaders(1, List.of(big, big)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void stringsUpTo32767Utf8BytesEncode() {
        String ascii = "a".repeat(32767);
        String threeByteChars = "€".repeat(10922); // 32766 bytes
        String fourByteChars = "🚀".repeat(8191); // 32764 bytes

        for (String name : List.of(ascii, threeByteChars, fourByteChars)) {
            Frame<Request> frame = new Frame<>(1, new DescribeTopicRequest(name));
            assertThat(FrameCodec.decodeRequest(body(FrameCodec.encode(frame)))).isEqualTo(frame);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "€", "🚀"})
    void stringsOver32767Utf8BytesAreAProgrammingError(String unit) {
        int bytes = unit.getBytes(StandardCharsets.UTF_8).length;
        String tooLong = unit.repeat(32767 / bytes + 1);

        assertThatThrownBy(() -> FrameCodec.encode(1, new DescribeTopicRequest(tooLong)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("32767");
    }

    @Test
    void unpairedSurrogatesEncodeAsQuestionMarksLikeTheJdk() {
        String broken = "a\uD800b\uDC00c\uD83D";

        Frame<Request> decoded = FrameCodec.decodeRequest(body(FrameCodec.encode(1,
                new DescribeTopicRequest(broken))));

        assertThat(((DescribeTopicRequest) decoded.message()).name()).isEqualTo("a?b?c?");
    }

    @Test
    void configIsEncodedSortedByKeySoBytesAreDeterministic() {
        ByteBuffer a = FrameCodec.encode(1, new CreateTopicRequest("t", 1, 1, Map.of("b", "2", "a", "1", "c", "3")));
        ByteBuffer raw = new RawFrame().int16(ApiKey.CREATE_TOPIC.id()).int32(1).string("t").int32(1).int16(1)
                .int32(3).string("a").string("1").string("b").string("2").string("c").string("3").build();

        assertThat(bytes(body(a))).isEqualTo(bytes(raw));
    }

    @Test
    void versionNegotiationPicksTheHighestCommonVersion() {
        assertThat(FrameCodec.negotiateVersion(HandshakeRequest.of("c"))).isEqualTo(FrameCodec.MAX_VERSION);
        assertThat(FrameCodec.negotiateVersion(new HandshakeRequest(0, 9, "c"))).isEqualTo(FrameCodec.MAX_VERSION);
    }

    @ParameterizedTest(name = "client {0}..{1}")
    @MethodSource("disjointVersionRanges")
    void versionNegotiationFailsWithUnsupportedVersion(int min, int max, String advice) {
        assertThatThrownBy(() -> FrameCodec.negotiateVersion(new HandshakeRequest(min, max, "c")))
                .isInstanceOf(MillraceException.class)
                .hasMessageContaining("upgrade the " + advice)
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.UNSUPPORTED_VERSION);
    }

    static Stream<Arguments> disjointVersionRanges() {
        return Stream.of(Arguments.of(0, 0, "client"), Arguments.of(6, 7, "broker"),
                Arguments.of(32767, 32767, "broker"));
    }

    @Test
    void requestsThatExpectNoResponse() {
        assertThat(new CreditRequest(1, 1).expectsResponse()).isFalse();
        assertThat(new ProduceRequest(Acks.NONE, 0, "t", List.of()).expectsResponse()).isFalse();
        assertThat(new ProduceRequest(Acks.LEADER, 0, "t", List.of()).expectsResponse()).isTrue();
        assertThat(new ProduceRequest(Acks.ALL, 0, "t", List.of()).expectsResponse()).isTrue();
        requests().map(a -> ((Frame<?>) a.get()[1]).message())
                .filter(m -> !(m instanceof CreditRequest) && !(m instanceof ProduceRequest))
                .forEach(m -> assertThat(((Request) m).expectsResponse()).as(m.toString()).isTrue());
    }

    @ParameterizedTest
    @EnumSource(ApiKey.class)
    void apiKeysRoundTripThroughTheirIds(ApiKey key) {
        assertThat(ApiKey.forId(key.id())).contains(key);
        assertThat(key.id()).isEqualTo((short) key.ordinal());
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 26, 255, Short.MAX_VALUE, Integer.MIN_VALUE})
    void unknownApiKeyIds(int id) {
        assertThat(ApiKey.forId(id)).isEmpty();
    }

    @Test
    void errorMessagesAreCappedAndNeverSplitASurrogatePair() {
        String longMessage = "x".repeat(ApiError.MAX_MESSAGE_CHARS - 1) + "🚀" + "y".repeat(100);

        ApiError error = new ApiError(ErrorCode.UNKNOWN, longMessage);

        assertThat(error.message()).hasSize(ApiError.MAX_MESSAGE_CHARS - 1);
        assertThat(FrameCodec.decodeResponse(body(FrameCodec.encode(1, new ErrorResponse(ApiKey.METADATA, error))))
                .message()).isEqualTo(new ErrorResponse(ApiKey.METADATA, error));
    }

    @Test
    void apiErrorsConvertToAndFromExceptions() {
        MillraceException e = new MillraceException(ErrorCode.NOT_LEADER, "moved");

        ApiError error = ApiError.of(e);

        assertThat(error).isEqualTo(new ApiError(ErrorCode.NOT_LEADER, "moved"));
        assertThat(error.toException().errorCode()).isEqualTo(ErrorCode.NOT_LEADER);
        assertThat(error.toException()).hasMessage("moved");
        assertThat(ApiError.of(ErrorCode.NOT_LEADER).message()).isEqualTo(ErrorCode.NOT_LEADER.description());
    }

    @Test
    void errorResponsesExistOnlyForKeysWithResponses() {
        assertThatThrownBy(() -> new ErrorResponse(ApiKey.CREDIT, ApiError.of(ErrorCode.UNKNOWN)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ErrorResponse(ApiKey.PUSH, ApiError.of(ErrorCode.UNKNOWN)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void errorResponseUnderARawApiKeyAnswersFramesThatCannotBeDecoded() {
        ByteBuffer garbage = new RawFrame().int16(99).int32(12345).int32(7).build();
        FrameHeader header = FrameCodec.readHeader(garbage);
        assertThat(header.knownApiKey()).isEmpty();

        ByteBuffer answer = FrameCodec.encodeErrorResponse(header.apiKey(), header.correlationId(),
                ApiError.of(new MillraceException(ErrorCode.INVALID_REQUEST, "Unknown apiKey 99")));

        assertThat(bytes(answer)).startsWith(0, 0, 0, 27, 0, 99, 0, 0, 0x30, 0x39, 0, 6, 0, 17, 'U');
        ByteBuffer known = FrameCodec.encodeErrorResponse(ApiKey.FETCH.id(), 3, ApiError.of(ErrorCode.NOT_LEADER));
        assertThat(FrameCodec.decodeResponse(body(known), 2))
                .isEqualTo(new Frame<>(3, new ErrorResponse(ApiKey.FETCH, ApiError.of(ErrorCode.NOT_LEADER))));
    }
}
