package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ErrorCode;
import io.millrace.protocol.ApiKey;
import io.millrace.protocol.FetchRequest;
import io.millrace.protocol.FetchResponse;
import io.millrace.protocol.FrameCodec;
import io.millrace.protocol.HandshakeRequest;
import io.millrace.protocol.HandshakeResponse;
import io.millrace.protocol.ListOffsetsRequest;
import io.millrace.protocol.ListOffsetsResponse;
import io.millrace.protocol.ListTopicsRequest;
import io.millrace.protocol.ListTopicsResponse;
import io.millrace.protocol.MetadataRequest;
import io.millrace.protocol.ProduceRequest;
import io.millrace.protocol.ProduceResponse;
import io.millrace.protocol.Push;
import io.millrace.protocol.Request;
import io.millrace.protocol.SubscribeRequest;
import io.millrace.protocol.SubscribeResponse;
import io.millrace.record.Record;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed and hostile input on the native TCP gateway, sent while a well-behaved TCP client keeps producing
 * (acks=all) and consuming: a frame the broker cannot decode is answered with its error code and closes only that
 * connection; a decodable request that fails is answered and the connection stays usable; the good client sees no
 * failure, and every record it had acknowledged is readable at the end.
 */
class TcpBadInputIT {

    private static final int MAX_FRAME_BYTES = 65536;
    private static final int HANDSHAKE_TIMEOUT_MS = 1000;
    private static final int MAX_CONNECTIONS = 12;
    private static final int IDLE_TIMEOUT_MS = 3000;
    private static final Duration WAIT = Duration.ofSeconds(10);

    static BrokerProcess broker;
    static Rest rest;
    static GoodClient good;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("tcp-bad-input", Map.of(
                "tcp.max.frame.bytes", Integer.toString(MAX_FRAME_BYTES),
                "tcp.handshake.timeout.ms", Integer.toString(HANDSHAKE_TIMEOUT_MS),
                "tcp.max.connections", Integer.toString(MAX_CONNECTIONS),
                "tcp.idle.timeout.ms", Integer.toString(IDLE_TIMEOUT_MS)));
        rest = new Rest(broker.baseUrl());
        rest.createTopic("steady", 2);
        good = new GoodClient(broker.tcpPort());
        good.start();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            List<String> acknowledged = good.stopAndCheck();
            assertThat(acknowledged).isNotEmpty();
            List<String> stored = new ArrayList<>();
            stored.addAll(RestartIT.readPartition(rest, "steady", 0));
            stored.addAll(RestartIT.readPartition(rest, "steady", 1));
            assertThat(stored).containsExactlyInAnyOrderElementsOf(acknowledged);
            assertThat(broker.isAlive()).isTrue();
            assertThat(broker.healthStatus()).isEqualTo(200);
        } finally {
            broker.close();
        }
    }

    /**
     * Bytes after which the stream cannot go on: each is answered with an error frame (under the frame's own apiKey
     * and correlation id when the broker could read them, else under 0 and 0) and then the connection is closed.
     */
    static Stream<Arguments> undecodable() {
        return Stream.of(
                closing("HTTP request instead of a handshake", false,
                        "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                        ErrorCode.FRAME_TOO_LARGE, 0x2f20, null),
                closing("garbage with a plausible size, before the handshake", false,
                        frame(new Raw().int16(0x5a5a).int32(7).raw(1, 2, 3, 4, 5, 6)),
                        ErrorCode.INVALID_REQUEST, 0x5a5a, 7),
                closing("garbage after the handshake", true,
                        frame(new Raw().int16(0x1337).int32(42).raw(0xde, 0xad)),
                        ErrorCode.INVALID_REQUEST, 0x1337, 42),
                closing("size field over tcp.max.frame.bytes, header follows", true,
                        new Raw().int32(1 << 20).int16(2).int32(77).bytes(),
                        ErrorCode.FRAME_TOO_LARGE, 2, 77),
                closing("size field over tcp.max.frame.bytes, nothing follows", true,
                        new Raw().int32(Integer.MAX_VALUE).bytes(), ErrorCode.FRAME_TOO_LARGE, 0, 0),
                closing("negative size field", true, new Raw().int32(-2).bytes(), ErrorCode.INVALID_REQUEST, 0, 0),
                closing("size field below the frame header", false, new Raw().int32(3).raw(1, 2, 3).bytes(),
                        ErrorCode.INVALID_REQUEST, 0, 0),
                closing("unknown apiKey", true, frame(new Raw().int16(99).int32(5)), ErrorCode.INVALID_REQUEST, 99, 5),
                closing("PUSH sent by a client", true,
                        frame(new Raw().int16(ApiKey.PUSH.id()).int32(6).string("steady").int32(0).int64(0)
                                .int16(0).int16(-1).int32(0)),
                        ErrorCode.INVALID_REQUEST, ApiKey.PUSH.id(), 6),
                closing("a request before the handshake", false, encoded(3, MetadataRequest.allTopics()),
                        ErrorCode.INVALID_REQUEST, ApiKey.METADATA.id(), 3),
                closing("handshake with the wrong magic", false,
                        frame(new Raw().int16(0).int32(1).string("MILLRACF").int16(1).int16(1).string("x")),
                        ErrorCode.INVALID_REQUEST, 0, 1),
                closing("handshake with no common version", false,
                        encoded(1, new HandshakeRequest(50, 70, "from-the-future")),
                        ErrorCode.UNSUPPORTED_VERSION, 0, 1),
                closing("a count larger than the frame", true,
                        frame(new Raw().int16(ApiKey.PRODUCE.id()).int32(8).int8(-1).int32(1000).string("steady")
                                .int32(1_000_000).int32(0)),
                        ErrorCode.INVALID_REQUEST, ApiKey.PRODUCE.id(), 8),
                closing("bytes after the body", true,
                        frame(new Raw().int16(ApiKey.LIST_TOPICS.id()).int32(9).raw(0, 0, 0)),
                        ErrorCode.INVALID_REQUEST, ApiKey.LIST_TOPICS.id(), 9),
                closing("a string longer than the frame", true,
                        frame(new Raw().int16(ApiKey.DESCRIBE_TOPIC.id()).int32(10).int16(30_000).raw('a')),
                        ErrorCode.INVALID_REQUEST, ApiKey.DESCRIBE_TOPIC.id(), 10),
                closing("negative fetch offset", true,
                        frame(new Raw().int16(ApiKey.FETCH.id()).int32(11).int32(0).int32(1).int32(1024)
                                .string("steady").int32(1).int32(0).int32(-1).int64(-5).int32(1024)),
                        ErrorCode.INVALID_REQUEST, ApiKey.FETCH.id(), 11),
                closing("negative subscribe offset", true,
                        frame(new Raw().int16(ApiKey.SUBSCRIBE.id()).int32(12).string("steady").int32(0).int32(-1)
                                .int8(2).int64(-1).int32(10).int32(1024)),
                        ErrorCode.INVALID_REQUEST, ApiKey.SUBSCRIBE.id(), 12),
                closing("list offsets timestamp below -2", true,
                        frame(new Raw().int16(ApiKey.LIST_OFFSETS.id()).int32(13).string("steady").int32(1).int32(0)
                                .int32(-1).int64(-3)),
                        ErrorCode.INVALID_REQUEST, ApiKey.LIST_OFFSETS.id(), 13),
                closing("acks that do not exist", true,
                        frame(new Raw().int16(ApiKey.PRODUCE.id()).int32(14).int8(7).int32(1000).string("steady")
                                .int32(0)),
                        ErrorCode.INVALID_REQUEST, ApiKey.PRODUCE.id(), 14),
                closing("a leader epoch below -1", true,
                        frame(new Raw().int16(ApiKey.SUBSCRIBE.id()).int32(16).string("steady").int32(0).int32(-2)
                                .int8(0).int64(0).int32(10).int32(1024)),
                        ErrorCode.INVALID_REQUEST, ApiKey.SUBSCRIBE.id(), 16),
                closing("negative partition", true,
                        frame(new Raw().int16(ApiKey.SUBSCRIBE.id()).int32(15).string("steady").int32(-1).int32(-1)
                                .int8(0).int64(0).int32(10).int32(1024)),
                        ErrorCode.INVALID_REQUEST, ApiKey.SUBSCRIBE.id(), 15));
    }

    private static Arguments closing(String name, boolean handshakeFirst, byte[] bytes, ErrorCode code,
                                     int apiKey, Integer correlationId) {
        return Arguments.of(name, handshakeFirst, bytes, code, apiKey, correlationId);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("undecodable")
    void anUndecodableFrameIsAnsweredThenOnlyThatConnectionIsClosed(String kind, boolean handshakeFirst,
            byte[] bytes, ErrorCode code, Integer apiKey, Integer correlationId) {
        try (TcpClient bad = TcpClient.open(broker.tcpPort());
             TcpClient bystander = TcpClient.connect(broker.tcpPort())) {
            if (handshakeFirst) {
                bad.handshake("soon-bad");
            }
            bad.sendRaw(bytes);
            TcpClient.Received answer = bad.await(r -> true, WAIT);
            assertThat(answer.errorCode()).as(kind).isEqualTo(code);
            assertThat(answer.error().get().message()).isNotBlank();
            if (apiKey != null) {
                assertThat(answer.apiKey()).as("apiKey echoed").isEqualTo(apiKey.shortValue());
            }
            if (correlationId != null) {
                assertThat(answer.correlationId()).as("correlation id echoed").isEqualTo(correlationId);
            }
            assertThat(bad.awaitClosed(WAIT)).as("closed after " + kind).isTrue();
            assertThat(bad.pending()).isEmpty();
            assertThat(bystander.ok(new ListTopicsRequest(), ListTopicsResponse.class).names()).contains("steady");
        }
    }

    @Test
    void aFrameCutShortByTheClientClosingCostsNothing() {
        byte[] handshake = encoded(1, HandshakeRequest.of("cut"));
        try (TcpClient cut = TcpClient.open(broker.tcpPort())) {
            cut.sendRaw(java.util.Arrays.copyOf(handshake, 12));
            cut.shutdownOutput();
            assertThat(cut.awaitClosed(WAIT)).isTrue();
            assertThat(cut.pending()).isEmpty();
        }
        try (TcpClient cut = TcpClient.connect(broker.tcpPort())) {
            byte[] produce = encoded(2, new ProduceRequest(ProduceRequest.Acks.ALL, 1000, "steady",
                    List.of(new ProduceRequest.PartitionData(0, TcpGatewayIT.batch("never-acknowledged")))));
            cut.sendRaw(java.util.Arrays.copyOf(produce, produce.length - 5));
            cut.shutdownOutput();
            assertThat(cut.awaitClosed(WAIT)).isTrue();
            assertThat(cut.pending()).isEmpty();
        }
        // The size field alone, then the client vanishes without a FIN.
        TcpClient vanish = TcpClient.connect(broker.tcpPort());
        vanish.sendRaw(new Raw().int32(5000).raw(0, 2).bytes());
        vanish.close();
        assertThat(broker.isAlive()).isTrue();
        assertThat(broker.healthStatus()).isEqualTo(200);
    }

    @Test
    void aClientThatNeverShakesHandsIsClosedAtTheDeadline() {
        try (TcpClient silent = TcpClient.open(broker.tcpPort());
             TcpClient halfway = TcpClient.open(broker.tcpPort())) {
            long started = System.nanoTime();
            halfway.sendRaw(java.util.Arrays.copyOf(encoded(1, HandshakeRequest.of("slow")), 9));
            assertThat(silent.awaitClosed(WAIT)).isTrue();
            assertThat(halfway.awaitClosed(WAIT)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started))
                    .isGreaterThanOrEqualTo(Duration.ofMillis(HANDSHAKE_TIMEOUT_MS - 100));
            assertThat(silent.pending()).isEmpty();
        }
    }

    @Test
    void anIdleConnectionIsClosed() {
        try (TcpClient idle = TcpClient.connect(broker.tcpPort())) {
            long started = System.nanoTime();
            assertThat(idle.awaitClosed(Duration.ofMillis(IDLE_TIMEOUT_MS * 3L))).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started))
                    .isGreaterThanOrEqualTo(Duration.ofMillis(IDLE_TIMEOUT_MS - 200));
        }
    }

    static Stream<Arguments> failing() {
        byte[] flipped = bytes(TcpGatewayIT.batch("valuable", "data"));
        flipped[flipped.length - 2] ^= 0x08;
        return Stream.of(
                Arguments.of("produce to an unknown topic", produce("nope", 0, TcpGatewayIT.batch("v")),
                        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
                Arguments.of("produce to an unknown partition", produce("steady", 7, TcpGatewayIT.batch("v")),
                        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
                Arguments.of("produce a batch with a flipped byte", produce("steady", 0, ByteBuffer.wrap(flipped)),
                        ErrorCode.CORRUPT_RECORD),
                Arguments.of("produce bytes that are not a batch", produce("steady", 1,
                        ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 9})), ErrorCode.CORRUPT_RECORD),
                Arguments.of("fetch an unknown partition", fetch("steady", 4, 0), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
                Arguments.of("fetch beyond the log", fetch("steady", 0, Long.MAX_VALUE), ErrorCode.OFFSET_OUT_OF_RANGE),
                Arguments.of("list offsets of an unknown topic", new ListOffsetsRequest("nope",
                        List.of(new ListOffsetsRequest.PartitionQuery(0, -1))), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
                Arguments.of("subscribe to an unknown topic", new SubscribeRequest("nope", 0,
                        SubscribeRequest.StartPosition.earliest(), 1, 1024), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
                Arguments.of("subscribe beyond the log", new SubscribeRequest("steady", 0,
                        SubscribeRequest.StartPosition.offset(Long.MAX_VALUE), 1, 1024), ErrorCode.OFFSET_OUT_OF_RANGE),
                Arguments.of("a second handshake", HandshakeRequest.of("again"), ErrorCode.INVALID_REQUEST));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failing")
    void aFailingRequestIsAnsweredWithItsCodeAndTheConnectionStaysUsable(String kind, Request request,
                                                                         ErrorCode code) {
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            TcpClient.Received answer = client.call(request);
            assertThat(errorOf(answer)).as(kind).isEqualTo(code);
            assertThat(client.ok(new ListTopicsRequest(), ListTopicsResponse.class).names()).contains("steady");
            assertThat(client.closed()).isNotDone();
        }
    }

    @Test
    void aSubscriptionIdInUseIsRefusedAndTheFirstSubscriptionGoesOn() {
        rest.createTopic("reused-id", 1);
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            SubscribeRequest latest = new SubscribeRequest("reused-id", 0, SubscribeRequest.StartPosition.latest(), 100,
                    4096);
            client.send(500, latest);
            assertThat(client.awaitResponse(500, WAIT).as(SubscribeResponse.class).startOffset()).isNotNegative();
            client.send(500, latest);
            assertThat(client.awaitResponse(500, WAIT).errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
            client.ok(produce("reused-id", 0, TcpGatewayIT.batch("for-the-first")), ProduceResponse.class);
            Push push = client.awaitPush(500, WAIT);
            assertThat(push.error()).isEmpty();
        }
    }

    @Test
    void connectionsBeyondTheLimitAreRefusedAndTheOthersCarryOn() throws Exception {
        List<TcpClient> clients = new ArrayList<>();
        int refused = 0;
        try {
            for (int i = 0; i < MAX_CONNECTIONS + 2; i++) {
                TcpClient client = TcpClient.open(broker.tcpPort());
                clients.add(client);
                int id;
                try {
                    id = client.send(HandshakeRequest.of("crowd-" + i));
                } catch (java.io.UncheckedIOException closedBeforeWeSpoke) {
                    // Over the limit the broker answers and closes at once; it may win the race with our handshake.
                    id = -1;
                }
                Optional<TcpClient.Received> first = firstFrame(client);
                if (first.isPresent() && first.get().correlationId() == id) {
                    assertThat(first.get().as(HandshakeResponse.class).version()).isEqualTo(FrameCodec.MAX_VERSION);
                    continue;
                }
                first.ifPresent(f -> {
                    assertThat(f.errorCode()).isEqualTo(ErrorCode.BROKER_OVERLOADED);
                    assertThat(f.correlationId()).isZero();
                });
                assertThat(client.awaitClosed(WAIT)).isTrue();
                refused++;
            }
            // The good client holds two connections, so at least the last two here were refused.
            assertThat(refused).isGreaterThanOrEqualTo(2);
        } finally {
            clients.forEach(TcpClient::close);
        }
        // Room again once those are gone.
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try (TcpClient again = TcpClient.open(broker.tcpPort())) {
                int id = again.send(HandshakeRequest.of("after-the-crowd"));
                Optional<TcpClient.Received> first = firstFrame(again);
                if (first.isPresent() && first.get().correlationId() == id) {
                    break;
                }
            }
            assertThat(System.nanoTime()).as("a connection is accepted again").isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Optional<TcpClient.Received> firstFrame(TcpClient client) {
        try {
            return Optional.of(client.await(r -> true, WAIT));
        } catch (AssertionError closedWithoutAFrame) {
            return Optional.empty();
        }
    }

    private static ErrorCode errorOf(TcpClient.Received answer) {
        if (answer.error().isPresent()) {
            return answer.errorCode();
        }
        // Multi-partition operations report the partition's error inside a successful body.
        Object body = answer.message().orElseThrow();
        if (body instanceof ProduceResponse p) {
            return p.partitions().get(0).error().map(e -> e.code()).orElse(null);
        }
        if (body instanceof FetchResponse f) {
            return f.partitions().get(0).error().map(e -> e.code()).orElse(null);
        }
        if (body instanceof ListOffsetsResponse l) {
            return l.partitions().get(0).error().map(e -> e.code()).orElse(null);
        }
        return null;
    }

    private static ProduceRequest produce(String topic, int partition, ByteBuffer batches) {
        return new ProduceRequest(ProduceRequest.Acks.ALL, 5000, topic,
                List.of(new ProduceRequest.PartitionData(partition, batches)));
    }

    private static FetchRequest fetch(String topic, int partition, long offset) {
        return new FetchRequest(0, 1, 1024, topic, List.of(new FetchRequest.PartitionFetch(partition, offset, 1024)));
    }

    private static byte[] encoded(int correlationId, Request request) {
        return bytes(FrameCodec.encode(correlationId, request));
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    /** The bytes with a size prefix in front. */
    private static byte[] frame(Raw body) {
        byte[] b = body.bytes();
        return new Raw().int32(b.length).raw(b).bytes();
    }

    /** Arbitrary, possibly malformed, frame bytes. */
    static final class Raw {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Raw int8(int v) {
            out.write(v);
            return this;
        }

        Raw int16(int v) {
            return int8(v >> 8).int8(v);
        }

        Raw int32(int v) {
            return int16(v >> 16).int16(v);
        }

        Raw int64(long v) {
            return int32((int) (v >> 32)).int32((int) v);
        }

        Raw string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return int16(b.length).raw(b);
        }

        Raw raw(int... values) {
            for (int v : values) {
                out.write(v);
            }
            return this;
        }

        Raw raw(byte[] bytes) {
            out.write(bytes, 0, bytes.length);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /**
     * Produces over one TCP connection (acks=all, keyed, one record per batch) and consumes both partitions over
     * another through subscriptions, checking every answer, until stopped.
     */
    static final class GoodClient {
        private final int port;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<String> acknowledged = new ArrayList<>();
        private CompletableFuture<Void> loop;

        GoodClient(int port) {
            this.port = port;
        }

        void start() {
            loop = CompletableFuture.runAsync(() -> {
                try (TcpClient producer = TcpClient.connect(port);
                     TcpClient consumer = TcpClient.connect(port)) {
                    int[] subscriptions = new int[2];
                    for (int p = 0; p < 2; p++) {
                        subscriptions[p] = consumer.send(new SubscribeRequest("steady", p,
                                SubscribeRequest.StartPosition.earliest(), 1_000_000, 64 * 1024));
                        consumer.awaitResponse(subscriptions[p], WAIT).as(SubscribeResponse.class);
                    }
                    Set<String> seen = new HashSet<>();
                    int n = 0;
                    while (running.get()) {
                        String key = "k" + (n % 7);
                        String value = "good-" + n++;
                        int partition = TcpGatewayIT.kafkaPartition(key, 2);
                        ByteBuffer batch = TcpGatewayIT.builder().append(System.currentTimeMillis(),
                                TcpGatewayIT.bytes(key), TcpGatewayIT.bytes(value)).build().buffer();
                        ProduceResponse ack = producer.ok(produce("steady", partition, batch), ProduceResponse.class);
                        if (ack.partitions().get(0).error().isPresent()) {
                            throw new AssertionError("good producer got " + ack);
                        }
                        synchronized (acknowledged) {
                            acknowledged.add(value);
                        }
                        while (!seen.contains(value)) {
                            Push push = consumer.awaitPush(subscriptions[partition], WAIT);
                            if (push.error().isPresent()) {
                                throw new AssertionError("good consumer got " + push);
                            }
                            for (Record r : TcpGatewayIT.records(push.recordBatches())) {
                                seen.add(TcpGatewayIT.text(r.value()));
                            }
                        }
                    }
                }
            });
        }

        /** How many records the broker has acknowledged to this client so far. */
        int acknowledgedCount() {
            synchronized (acknowledged) {
                return acknowledged.size();
            }
        }

        List<String> stopAndCheck() throws Exception {
            running.set(false);
            loop.get(60, TimeUnit.SECONDS);
            synchronized (acknowledged) {
                return new ArrayList<>(acknowledged);
            }
        }
    }
}
