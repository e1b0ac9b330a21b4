package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.ErrorCode;
import io.millrace.protocol.AddPartitionsRequest;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.CreateTopicRequest;
import io.millrace.protocol.DescribeTopicRequest;
import io.millrace.protocol.FrameCodec;
import io.millrace.protocol.HandshakeRequest;
import io.millrace.protocol.ProduceRequest;
import io.millrace.protocol.ProduceResponse;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The broker's limits against too much and too slow (issue 16), over real sockets: the cluster-wide partition cap on
 * the REST, TCP and auto-create paths; connections per client address on the TCP port, the HTTP port and its
 * WebSockets; the read deadlines that close a client sending a byte now and then on each port, though it is never
 * idle; and the idle timeouts. All the while a
 * well-behaved TCP client keeps producing and consuming, and each test checks that it got on and that the broker is
 * healthy.
 */
class LimitsIT {

    private static final int MAX_PARTITIONS = 8;
    private static final int OFFSETS_PARTITIONS = 4;
    private static final int PER_IP = 3;
    /** Above {@link #PER_IP}: every WebSocket is also a connection to the HTTP port. */
    private static final int HTTP_PER_IP = PER_IP + 2;
    private static final int READ_TIMEOUT_MS = 2000;
    /** How late after its deadline a slow sender may still be closed: timers, scheduling on a busy machine. */
    private static final Duration MARGIN = Duration.ofMillis(2500);
    /** A byte this often keeps a connection from ever being idle. */
    private static final Duration TRICKLE = Duration.ofMillis(400);
    private static final int WS_IDLE_TIMEOUT_MS = 8000;
    /** Longer than a read deadline and its margin: the 408 test keeps a connection quiet that long. */
    private static final int HTTP_IDLE_TIMEOUT_MS = 6000;
    private static final Duration WAIT = Duration.ofSeconds(10);

    static BrokerProcess broker;
    static Rest rest;
    static TcpBadInputIT.GoodClient good;
    /** The last byte of the loopback address the next test connects from (see {@link #ownAddress()}). */
    private static final AtomicInteger nextAddress = new AtomicInteger(2);

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("limits", Map.ofEntries(
                Map.entry("max.partitions", Integer.toString(MAX_PARTITIONS)),
                Map.entry("offsets.topic.num.partitions", Integer.toString(OFFSETS_PARTITIONS)),
                Map.entry("auto.create.topics.enable", "true"),
                Map.entry("num.partitions", "1"),
                Map.entry("tcp.max.connections.per.ip", Integer.toString(PER_IP)),
                Map.entry("ws.max.connections.per.ip", Integer.toString(PER_IP)),
                Map.entry("http.max.connections.per.ip", Integer.toString(HTTP_PER_IP)),
                Map.entry("http.idle.timeout.ms", Integer.toString(HTTP_IDLE_TIMEOUT_MS)),
                Map.entry("tcp.request.read.timeout.ms", Integer.toString(READ_TIMEOUT_MS)),
                Map.entry("http.request.read.timeout.ms", Integer.toString(READ_TIMEOUT_MS)),
                Map.entry("ws.message.read.timeout.ms", Integer.toString(READ_TIMEOUT_MS)),
                Map.entry("ws.idle.timeout.ms", Integer.toString(WS_IDLE_TIMEOUT_MS))));
        rest = new Rest(broker.baseUrl());
        rest.createTopic("steady", 2);
        good = new TcpBadInputIT.GoodClient(broker.tcpPort());
        good.start();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (good != null) {
                assertThat(good.stopAndCheck()).isNotEmpty();
            }
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
    }

    // ---------------------------------------------------------------- max.partitions

    @Test
    void creatingPastTheCapIsRefusedOnEveryPathAndWritesNothing() {
        // steady has 2 partitions: 6 more reach the cap exactly.
        rest.createTopic("filler", MAX_PARTITIONS - 2);

        Rest.Response overRest = rest.post("/api/topics", "{\"name\":\"one-more\",\"partitions\":1}");
        assertThat(overRest.status()).isEqualTo(409);
        assertThat(overRest.errorCode()).isEqualTo("TOO_MANY_PARTITIONS");
        assertThat(overRest.json().getJsonObject("error").getString("message")).contains("max.partitions");
        assertThat(rest.get("/api/topics/one-more").status()).isEqualTo(404);

        Rest.Response grow = rest.post("/api/topics/filler/partitions", "{\"partitions\":" + (MAX_PARTITIONS - 1) + "}");
        assertThat(grow.status()).as(grow.body()).isEqualTo(409);
        assertThat(grow.errorCode()).isEqualTo("TOO_MANY_PARTITIONS");
        assertThat(rest.get("/api/topics/filler").json().getJsonArray("partitions")).hasSize(MAX_PARTITIONS - 2);

        try (TcpClient admin = TcpClient.connect(broker.tcpPort())) {
            assertThat(admin.error(new CreateTopicRequest("one-more-tcp", 1, 1, Map.of())))
                    .isEqualTo(ErrorCode.TOO_MANY_PARTITIONS);
            assertThat(admin.error(new AddPartitionsRequest("filler", MAX_PARTITIONS)))
                    .isEqualTo(ErrorCode.TOO_MANY_PARTITIONS);
            assertThat(admin.error(new DescribeTopicRequest("one-more-tcp")))
                    .isEqualTo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            // Auto-creation takes the same check: the produce fails, no topic appears.
            TcpClient.Received produced = admin.call(new ProduceRequest(ProduceRequest.Acks.ALL, 5000, "auto-made",
                    List.of(new ProduceRequest.PartitionData(0, TcpGatewayIT.batch("v")))));
            assertThat(errorOf(produced)).isEqualTo(Optional.of(ErrorCode.TOO_MANY_PARTITIONS));
            assertThat(admin.error(new DescribeTopicRequest("auto-made")))
                    .isEqualTo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        }

        // The internal offsets topic is created on first use even though it takes the cluster past the cap.
        await().atMost(WAIT).untilAsserted(() -> assertThat(rest.get("/api/topics/__consumer_offsets").status())
                .isEqualTo(200));
        assertThat(rest.get("/api/topics/__consumer_offsets").json().getJsonArray("partitions"))
                .hasSize(OFFSETS_PARTITIONS);

        // Deleting a topic makes room again (the offsets topic now counts).
        assertThat(rest.delete("/api/topics/filler").status()).isEqualTo(204);
        await().atMost(WAIT).untilAsserted(() -> assertThat(rest.post("/api/topics",
                "{\"name\":\"fits\",\"partitions\":" + (MAX_PARTITIONS - 2 - OFFSETS_PARTITIONS) + "}").status())
                .isEqualTo(201));
        assertThat(rest.post("/api/topics", "{\"name\":\"does-not\",\"partitions\":1}").errorCode())
                .isEqualTo("TOO_MANY_PARTITIONS");
        assertThat(rest.delete("/api/topics/fits").status()).isEqualTo(204);
        assertHealthyWhileGoodClientProgresses(good.acknowledgedCount());
    }

    // ---------------------------------------------------------------- connections per address

    @Test
    void tcpConnectionsBeyondThePerAddressLimitAreRefusedUntilOneCloses() {
        InetAddress address = ownAddress();
        int before = good.acknowledgedCount();
        List<TcpClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < PER_IP; i++) {
                TcpClient client = TcpClient.openFrom(address, broker.tcpPort());
                open.add(client);
                client.handshake("limited-" + i);
            }
            try (TcpClient refused = TcpClient.openFrom(address, broker.tcpPort())) {
                TcpClient.Received answer = refused.await(r -> true, WAIT);
                assertThat(answer.errorCode()).isEqualTo(ErrorCode.BROKER_OVERLOADED);
                assertThat(answer.error().map(ApiError::message).orElse(""))
                        .contains("tcp.max.connections.per.ip");
                assertThat(refused.awaitClosed(WAIT)).isTrue();
            }
            open.remove(0).close();
            await().atMost(WAIT).untilAsserted(() -> {
                TcpClient again = TcpClient.openFrom(address, broker.tcpPort());
                try {
                    again.handshake("after-one-closed");
                    open.add(again);
                } catch (AssertionError | RuntimeException refusedStill) {
                    again.close();
                    throw refusedStill;
                }
            });
        } finally {
            open.forEach(TcpClient::close);
        }
        assertHealthyWhileGoodClientProgresses(before);
    }

    @Test
    void webSocketsBeyondThePerAddressLimitAreRefusedWith429UntilOneCloses() throws IOException {
        InetAddress address = ownAddress();
        int before = good.acknowledgedCount();
        List<RawConnection> open = new ArrayList<>();
        try {
            for (int i = 0; i < PER_IP; i++) {
                RawConnection socket = RawConnection.from(address, broker.httpPort());
                open.add(socket);
                assertThat(socket.upgrade()).startsWith("HTTP/1.1 101");
            }
            try (RawConnection refused = RawConnection.from(address, broker.httpPort())) {
                assertThat(refused.upgrade()).startsWith("HTTP/1.1 429");
            }
            open.remove(0).close();
            await().atMost(WAIT).untilAsserted(() -> {
                RawConnection again = RawConnection.from(address, broker.httpPort());
                open.add(again);
                assertThat(again.upgrade()).startsWith("HTTP/1.1 101");
            });
        } finally {
            for (RawConnection socket : open) {
                socket.close();
            }
        }
        assertHealthyWhileGoodClientProgresses(before);
    }

    @Test
    void httpConnectionsBeyondThePerAddressLimitAreAnswered429AndClosedOtherAddressesUnaffected() throws IOException {
        InetAddress address = ownAddress();
        int before = good.acknowledgedCount();
        List<RawConnection> open = new ArrayList<>();
        try {
            for (int i = 0; i < HTTP_PER_IP; i++) {
                RawConnection connection = RawConnection.from(address, broker.httpPort());
                open.add(connection);
                assertThat(connection.get("/health")).startsWith("HTTP/1.1 200");
            }
            try (RawConnection refused = RawConnection.from(address, broker.httpPort())) {
                String answer = refused.get("/api/topics");
                assertThat(answer).startsWith("HTTP/1.1 429").containsIgnoringCase("connection: close");
                JsonObject error = new JsonObject(answer.substring(answer.indexOf("\r\n\r\n") + 4))
                        .getJsonObject("error");
                assertThat(error.getString("code")).isEqualTo("BROKER_OVERLOADED");
                assertThat(error.getBoolean("retriable")).isTrue();
                assertThat(error.getString("message")).contains("http.max.connections.per.ip");
                assertThat(refused.awaitClosed(WAIT)).as("the refused connection is closed").isTrue();
            }
            try (RawConnection upgrade = RawConnection.from(address, broker.httpPort())) {
                assertThat(upgrade.upgrade()).as("a WebSocket handshake on a refused connection")
                        .startsWith("HTTP/1.1 429");
            }
            // The address at its limit keeps what it has; another address, and the usual REST client, are served.
            assertThat(open.get(0).get("/health")).startsWith("HTTP/1.1 200");
            try (RawConnection other = RawConnection.from(ownAddress(), broker.httpPort())) {
                assertThat(other.get("/api/topics/steady/partitions/0/records?offset=earliest&maxRecords=1"))
                        .startsWith("HTTP/1.1 200").contains("\"records\"");
            }
            assertThat(rest.get("/api/topics/steady").status()).isEqualTo(200);

            open.remove(0).close();
            await().atMost(WAIT).untilAsserted(() -> {
                RawConnection again = RawConnection.from(address, broker.httpPort());
                open.add(again);
                assertThat(again.get("/health")).startsWith("HTTP/1.1 200");
            });
        } finally {
            for (RawConnection connection : open) {
                connection.close();
            }
        }
        assertHealthyWhileGoodClientProgresses(before);
    }

    // ---------------------------------------------------------------- slow senders

    @Test
    void aTcpFrameTrickledByteByByteIsCutOffAtItsDeadline() {
        InetAddress address = ownAddress();
        int before = good.acknowledgedCount();
        try (TcpClient slow = TcpClient.openFrom(address, broker.tcpPort())) {
            slow.handshake("slow");
            byte[] frame = bytes(FrameCodec.encode(7, HandshakeRequest.of("a-client-id-long-enough-to-take-a-while")));
            AtomicBoolean stop = new AtomicBoolean();
            long started = System.nanoTime();
            trickle(stop, frame, slow::sendRaw);
            try {
                assertThat(slow.awaitClosed(Duration.ofMillis(READ_TIMEOUT_MS).plus(MARGIN))).isTrue();
            } finally {
                stop.set(true);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started))
                    .isGreaterThanOrEqualTo(Duration.ofMillis(READ_TIMEOUT_MS - 100));
            assertThat(slow.pending()).singleElement()
                    .satisfies(r -> assertThat(r.errorCode()).isEqualTo(ErrorCode.REQUEST_TIMED_OUT));
        }
        assertHealthyWhileGoodClientProgresses(before);
    }

    @Test
    void anHttpRequestTrickledByteByByteIsAnswered408AtItsDeadline() throws IOException {
        InetAddress address = ownAddress();
        int before = good.acknowledgedCount();
        try (RawConnection keptAlive = RawConnection.from(address, broker.httpPort());
             RawConnection slow = RawConnection.from(address, broker.httpPort())) {
            assertThat(keptAlive.get("/health")).startsWith("HTTP/1.1 200");
            byte[] request = ("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + "x".repeat(40) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            String answer = slow.trickleUntilClosed(request);
            assertThat(answer).startsWith("HTTP/1.1 408").contains("REQUEST_TIMED_OUT")
                    .contains("http.request.read.timeout.ms");
            assertThat(keptAlive.get("/health")).as("a connection quiet between whole requests outlives the deadline")
                    .startsWith("HTTP/1.1 200");
        }
        assertHealthyWhileGoodClientProgresses(before);
    }

    @Test
    void aWebSocketMessageTrickledByteByByteIsClosedWith1008AtItsDeadline() throws IOException {
        InetAddress address = ownAddress();
        int before = good.acknowledgedCount();
        try (RawConnection quiet = RawConnection.from(address, broker.httpPort());
             RawConnection slow = RawConnection.from(address, broker.httpPort())) {
            assertThat(quiet.upgrade()).startsWith("HTTP/1.1 101");
            quiet.sendText("{\"op\":\"ping\",\"id\":1}");
            assertThat(quiet.readText()).contains("pong");
            assertThat(slow.upgrade()).startsWith("HTTP/1.1 101");
            byte[] payload = "{\"op\":\"ping\",\"id\":1,\"padding\":\"....................\"}"
                    .getBytes(StandardCharsets.UTF_8);
            String answer = slow.trickleUntilClosed(maskedTextFrame(payload));
            int close = answer.indexOf((char) 0x88);
            assertThat(close).as("a close frame in " + answer).isGreaterThanOrEqualTo(0);
            assertThat(((answer.charAt(close + 2) & 0xFF) << 8) | (answer.charAt(close + 3) & 0xFF)).isEqualTo(1008);
            assertThat(answer.substring(close + 4)).startsWith("REQUEST_TIMED_OUT")
                    .contains("ws.message.read.timeout.ms");
            quiet.sendText("{\"op\":\"ping\",\"id\":2}");
            assertThat(quiet.readText()).as("a socket quiet between whole messages outlives the deadline")
                    .contains("pong");
        }
        assertHealthyWhileGoodClientProgresses(before);
    }

    @Test
    void aWebSocketThatAnswersNoPingIsClosedAfterTheIdleTimeout() throws IOException {
        int before = good.acknowledgedCount();
        try (RawConnection silent = RawConnection.from(ownAddress(), broker.httpPort())) {
            assertThat(silent.upgrade()).startsWith("HTTP/1.1 101");
            long started = System.nanoTime();
            // The broker's pings are traffic to the HTTP server's idle timeout; only what the client sends counts.
            byte[] close = silent.readFrame(0x8, Duration.ofMillis(WS_IDLE_TIMEOUT_MS * 3L / 2).plus(MARGIN));
            assertThat(Duration.ofNanos(System.nanoTime() - started))
                    .isGreaterThanOrEqualTo(Duration.ofMillis(WS_IDLE_TIMEOUT_MS - 100));
            assertThat(new String(close, 2, close.length - 2, StandardCharsets.UTF_8)).contains("ws.idle.timeout.ms");
        }
        assertHealthyWhileGoodClientProgresses(before);
    }

    @Test
    void anIdleHttpConnectionIsClosedAfterTheIdleTimeout() throws IOException {
        InetAddress address = ownAddress();
        int before = good.acknowledgedCount();
        try (RawConnection keptAlive = RawConnection.from(address, broker.httpPort());
             RawConnection silent = RawConnection.from(address, broker.httpPort())) {
            long started = System.nanoTime();
            assertThat(keptAlive.get("/health")).startsWith("HTTP/1.1 200");
            Duration latest = Duration.ofMillis(HTTP_IDLE_TIMEOUT_MS).plus(MARGIN);
            assertThat(keptAlive.awaitClosed(latest)).as("a keep-alive connection idle after its answer").isTrue();
            assertThat(silent.awaitClosed(latest)).as("a connection that never sent a byte").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started))
                    .isGreaterThanOrEqualTo(Duration.ofMillis(HTTP_IDLE_TIMEOUT_MS - 100));
        }
        assertHealthyWhileGoodClientProgresses(before);
    }

    // ---------------------------------------------------------------- helpers

    /**
     * A loopback address of this test's own to connect from (Linux routes all of 127.0.0.0/8 to itself), so that the
     * per-address counts a test meets are its own: not the good client's (127.0.0.1), nor those of an earlier test
     * whose connections the broker may not have seen close yet.
     */
    private static InetAddress ownAddress() {
        try {
            return InetAddress.getByName("127.0.0." + nextAddress.getAndIncrement());
        } catch (UnknownHostException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The broker answers /health with 200 and the good client gets records acknowledged past {@code before}. */
    private static void assertHealthyWhileGoodClientProgresses(int before) {
        assertThat(broker.healthStatus()).isEqualTo(200);
        await().atMost(WAIT).until(() -> good.acknowledgedCount() > before);
    }

    private static Optional<ErrorCode> errorOf(TcpClient.Received received) {
        if (received.error().isPresent()) {
            return Optional.of(received.errorCode());
        }
        return received.as(ProduceResponse.class).partitions().get(0).error().map(ApiError::code);
    }

    /** Sends {@code bytes} one at a time, {@link #TRICKLE} apart, on a thread of its own, until done or stopped. */
    private static Thread trickle(AtomicBoolean stop, byte[] bytes, java.util.function.Consumer<byte[]> send) {
        Thread thread = new Thread(() -> {
            for (byte b : bytes) {
                if (stop.get()) {
                    return;
                }
                try {
                    send.accept(new byte[] {b});
                    Thread.sleep(TRICKLE.toMillis());
                } catch (RuntimeException closed) {
                    return;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }, "trickle");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    /** A client's text frame (FIN, masked, as RFC 6455 requires of clients) of fewer than 126 bytes. */
    private static byte[] maskedTextFrame(byte[] payload) {
        byte[] mask = {0x11, 0x22, 0x33, 0x44};
        byte[] frame = new byte[6 + payload.length];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | payload.length);
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
        }
        return frame;
    }

    /** A plain socket to the HTTP port, for what java.net.http cannot do: bind an address, send bytes slowly. */
    static final class RawConnection implements AutoCloseable {
        private final Socket socket;

        private RawConnection(Socket socket) {
            this.socket = socket;
        }

        static RawConnection from(InetAddress localAddress, int port) throws IOException {
            Socket socket = new Socket();
            socket.bind(new InetSocketAddress(localAddress, 0));
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setTcpNoDelay(true);
            return new RawConnection(socket);
        }

        /** Asks for a WebSocket at /ws and returns the response head (status line and headers). */
        String upgrade() throws IOException {
            write("GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            return readHead();
        }

        /** Sends a GET on this (kept-alive) connection and returns the response, head and body. */
        String get(String path) throws IOException {
            write("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
            String head = readHead();
            int length = head.lines().filter(line -> line.toLowerCase(java.util.Locale.ROOT)
                    .startsWith("content-length:")).map(line -> Integer.parseInt(line.substring(15).trim()))
                    .findFirst().orElse(0);
            return head + new String(socket.getInputStream().readNBytes(length), StandardCharsets.UTF_8);
        }

        /** Sends a text message of fewer than 126 bytes in one frame. */
        void sendText(String text) throws IOException {
            socket.getOutputStream().write(maskedTextFrame(text.getBytes(StandardCharsets.UTF_8)));
        }

        /** Reads frames until a text frame and returns its text. */
        String readText() throws IOException {
            return new String(readFrame(0x1, WAIT), StandardCharsets.UTF_8);
        }

        /**
         * Reads the server's frames (unmasked, each under 65536 bytes) until one with {@code opcode}, and returns its
         * payload; the others (pings) are skipped.
         */
        byte[] readFrame(int opcode, Duration timeout) throws IOException {
            socket.setSoTimeout((int) timeout.toMillis());
            InputStream in = socket.getInputStream();
            while (true) {
                int first = in.read();
                if (first < 0) {
                    throw new java.io.EOFException("closed before a frame with opcode " + opcode);
                }
                int length = in.read() & 0x7F;
                if (length == 126) {
                    length = (in.read() << 8) | in.read();
                }
                byte[] payload = in.readNBytes(length);
                if ((first & 0x0F) == opcode) {
                    return payload;
                }
            }
        }

        /**
         * Reads, discarding, until the broker closes the connection (an end of stream, or a reset if bytes of ours
         * were unread) or {@code timeout} passes; returns whether it closed.
         */
        boolean awaitClosed(Duration timeout) throws IOException {
            long deadline = System.nanoTime() + timeout.toNanos();
            InputStream in = socket.getInputStream();
            byte[] chunk = new byte[4096];
            try {
                while (true) {
                    long leftMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (leftMs <= 0) {
                        return false;
                    }
                    socket.setSoTimeout((int) leftMs);
                    if (in.read(chunk) < 0) {
                        return true;
                    }
                }
            } catch (SocketTimeoutException e) {
                return false;
            } catch (java.net.SocketException reset) {
                return true;
            }
        }

        private void write(String text) throws IOException {
            socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        }

        private String readHead() throws IOException {
            socket.setSoTimeout((int) WAIT.toMillis());
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                head.write(b);
            }
            return head.toString(StandardCharsets.ISO_8859_1);
        }

        /**
         * Trickles {@code bytes} and reads until the broker closes the connection, which must happen between the read
         * deadline and the deadline plus {@link #MARGIN}; returns what the broker sent meanwhile, one char per byte.
         */
        String trickleUntilClosed(byte[] bytes) throws IOException {
            AtomicBoolean stop = new AtomicBoolean();
            long started = System.nanoTime();
            trickle(stop, bytes, b -> {
                try {
                    socket.getOutputStream().write(b);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            try {
                socket.setSoTimeout((int) (READ_TIMEOUT_MS + MARGIN.toMillis()));
                InputStream in = socket.getInputStream();
                byte[] chunk = new byte[4096];
                for (int n = in.read(chunk); n >= 0; n = in.read(chunk)) {
                    received.write(chunk, 0, n);
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("still open " + (READ_TIMEOUT_MS + MARGIN.toMillis()) + " ms after the first"
                        + " byte; received " + received.toString(StandardCharsets.ISO_8859_1));
            } catch (IOException reset) {
                // closed by the broker while bytes of ours were still unread: a reset instead of an end of stream
            } finally {
                stop.set(true);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started))
                    .isGreaterThanOrEqualTo(Duration.ofMillis(READ_TIMEOUT_MS - 100))
                    .isLessThanOrEqualTo(Duration.ofMillis(READ_TIMEOUT_MS).plus(MARGIN));
            return received.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
