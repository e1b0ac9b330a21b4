package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * WebSocket per-message deflate costs native memory per socket, so a broker accepts it only when
 * {@code ws.compression.enable} is on, whatever the client offers; HTTP response compression stays on either way.
 * Checked on the handshake a browser sends, over a real socket. And a {@code records} message larger than
 * {@code ws.max.frame.bytes} arrives whole in several frames, compressed or not, to each of several sockets reading
 * the same records (which share one encoded text on the broker).
 */
class WebSocketCompressionIT {

    /** What Chrome and Firefox offer. */
    private static final String BROWSER_OFFER = "permessage-deflate; client_max_window_bits";

    /** Small enough that a push of the records below needs several frames. */
    private static final int MAX_FRAME_BYTES = 16_384;
    private static final int LARGE_RECORDS = 12;
    private static final int LARGE_VALUE_CHARS = 4_000;

    static BrokerProcess plain;
    static BrokerProcess compressing;

    @BeforeAll
    static void start() {
        String frame = Integer.toString(MAX_FRAME_BYTES);
        plain = BrokerProcess.start("ws-deflate-default", Map.of("ws.max.frame.bytes", frame));
        compressing = BrokerProcess.start("ws-deflate-on", Map.of("ws.compression.enable", "true",
                "ws.max.frame.bytes", frame));
    }

    @AfterAll
    static void stop() {
        plain.close();
        compressing.close();
    }

    @Test
    void perMessageDeflateIsNotNegotiatedByDefault() throws IOException {
        Map<String, String> answer = handshake(plain, BROWSER_OFFER);

        assertThat(answer.get("status")).contains(" 101 ");
        assertThat(answer).doesNotContainKey("sec-websocket-extensions");
    }

    @Test
    void perMessageDeflateIsNegotiatedWhenTheKeyIsOn() throws IOException {
        Map<String, String> answer = handshake(compressing, BROWSER_OFFER);

        assertThat(answer.get("status")).contains(" 101 ");
        assertThat(answer.get("sec-websocket-extensions")).isEqualTo("permessage-deflate");
        // ws.compression.client.no.context (on by default) takes up a client's offer to reset its context
        assertThat(handshake(compressing, "permessage-deflate; client_no_context_takeover")
                .get("sec-websocket-extensions")).contains("client_no_context_takeover");
    }

    @Test
    void compressedMessagesWorkBothWays() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
                    .setTryUsePerMessageCompression(true));
            WebSocket socket = client.connect(new WebSocketConnectOptions().setHost("127.0.0.1")
                    .setPort(compressing.httpPort()).setURI("/ws")).await(10, TimeUnit.SECONDS);
            JsonObject pong = call(socket);
            assertThat(pong.getString("op")).isEqualTo("pong");
            assertThat(pong.getInteger("id")).isEqualTo(7);
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void httpResponsesAreStillCompressed() throws IOException {
        try (Socket socket = new Socket("127.0.0.1", plain.httpPort())) {
            socket.getOutputStream().write(("GET /api/topics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            Map<String, String> answer = readHead(socket.getInputStream());
            assertThat(answer.get("status")).contains(" 200 ");
            assertThat(answer.get("content-encoding")).isEqualTo("gzip");
        }
    }

    @Test
    void aPushLargerThanOneFrameArrivesWholeInSeveralFramesToEverySocket() throws Exception {
        for (BrokerProcess broker : List.of(plain, compressing)) {
            String topic = "large-push-" + broker.name();
            new Rest(broker.baseUrl()).createTopic(topic, 1);
            Vertx vertx = Vertx.vertx();
            try {
                WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
                        .setTryUsePerMessageCompression(broker == compressing).setMaxFrameSize(MAX_FRAME_BYTES)
                        .setMaxMessageSize(1 << 20));
                WebSocketConnectOptions where = new WebSocketConnectOptions().setHost("127.0.0.1")
                        .setPort(broker.httpPort()).setURI("/ws");
                WebSocket producer = client.connect(where).await(10, TimeUnit.SECONDS);
                List<String> values = new ArrayList<>();
                for (int i = 0; i < LARGE_RECORDS; i++) {
                    values.add(i + "-" + "é".repeat(LARGE_VALUE_CHARS / 2) + "x".repeat(LARGE_VALUE_CHARS / 2));
                    JsonObject produced = call(producer, new JsonObject().put("op", "produce").put("id", i)
                            .put("topic", topic).put("acks", "all").put("value", values.get(i)));
                    assertThat(produced.getString("op")).as(produced.encode()).isEqualTo("result");
                }

                // Three readers of the same records; sockets on one event loop share the encoded message.
                List<FramedReader> readers = new ArrayList<>();
                for (int r = 0; r < 3; r++) {
                    readers.add(new FramedReader(client.connect(where).await(10, TimeUnit.SECONDS)));
                }
                readers.forEach(reader -> reader.socket.writeTextMessage(new JsonObject().put("op", "subscribe")
                        .put("id", 1).put("topic", topic).put("from", "earliest").put("credits", 1_000).encode()));
                for (FramedReader reader : readers) {
                    await().atMost(Duration.ofSeconds(20)).until(() -> reader.values().size() >= LARGE_RECORDS);
                    assertThat(reader.values()).as("values read on " + broker.name()).isEqualTo(values);
                    assertThat(reader.largestFrames.get()).as("frames of the largest message")
                            .isGreaterThanOrEqualTo(2);
                    assertThat(reader.largestFrameBytes.get()).isLessThanOrEqualTo(MAX_FRAME_BYTES);
                }
            } finally {
                vertx.close().await(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Reassembles text messages from their frames, counting how many frames the largest took. */
    private static final class FramedReader {
        final WebSocket socket;
        final List<String> messages = new CopyOnWriteArrayList<>();
        final AtomicInteger largestFrames = new AtomicInteger();
        final AtomicInteger largestFrameBytes = new AtomicInteger();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private int frames;

        FramedReader(WebSocket socket) {
            this.socket = socket;
            socket.frameHandler(frame -> {
                byte[] data = frame.binaryData().getBytes();
                largestFrameBytes.accumulateAndGet(data.length, Math::max);
                bytes.writeBytes(data);
                frames++;
                if (frame.isFinal()) {
                    messages.add(bytes.toString(StandardCharsets.UTF_8));
                    largestFrames.accumulateAndGet(frames, Math::max);
                    bytes.reset();
                    frames = 0;
                }
            });
        }

        List<String> values() {
            List<String> out = new ArrayList<>();
            for (String text : messages) {
                JsonObject message = new JsonObject(text);
                if ("records".equals(message.getString("op"))) {
                    message.getJsonArray("records").forEach(r -> out.add(((JsonObject) r).getString("value")));
                }
            }
            return out;
        }
    }

    private static JsonObject call(WebSocket socket, JsonObject request) throws Exception {
        CompletableFuture<JsonObject> answer = new CompletableFuture<>();
        socket.textMessageHandler(text -> answer.complete(new JsonObject(text)));
        socket.writeTextMessage(request.encode());
        return answer.get(10, TimeUnit.SECONDS);
    }

    private static JsonObject call(WebSocket socket) throws Exception {
        CompletableFuture<JsonObject> answer = new CompletableFuture<>();
        socket.textMessageHandler(text -> answer.complete(new JsonObject(text)));
        socket.writeTextMessage(new JsonObject().put("op", "ping").put("id", 7).encode());
        return answer.get(10, TimeUnit.SECONDS);
    }

    /** Sends a WebSocket upgrade offering {@code extensions} and returns the answer's status line and headers. */
    private static Map<String, String> handshake(BrokerProcess broker, String extensions) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", broker.httpPort())) {
            socket.setSoTimeout(10_000);
            String key = Base64.getEncoder().encodeToString("millrace-deflate1".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + broker.httpPort() + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Extensions: " + extensions + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return readHead(socket.getInputStream());
        }
    }

    /** The status line (key "status") and headers (lower-case names) of an HTTP response. */
    private static Map<String, String> readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        String[] lines = head.toString(StandardCharsets.US_ASCII).split("\r\n");
        Map<String, String> parsed = new LinkedHashMap<>();
        parsed.put("status", lines[0]);
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                parsed.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).trim());
            }
        }
        return parsed;
    }
}
