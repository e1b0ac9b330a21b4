package io.millrace.it;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A browser-like WebSocket client over a real socket (the JDK's client): sends JSON text frames, collects every
 * message the broker sends, and remembers how the connection closed.
 */
public final class WsClient implements AutoCloseable {

    private final WebSocket socket;
    private final Inbox<JsonObject> received = new Inbox<>("message", () -> closed().isDone());
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final AtomicInteger nextId = new AtomicInteger(1);

    private WsClient(URI uri) {
        this.socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                .buildAsync(uri, new Listener()).join();
    }

    public static WsClient connect(URI uri) {
        return new WsClient(uri);
    }

    /** Sends a request with a fresh id and returns that id. */
    public int send(JsonObject message) {
        int id = nextId.getAndIncrement();
        sendRaw(message.copy().put("id", id).encode());
        return id;
    }

    public void sendRaw(String text) {
        socket.sendText(text, true).join();
    }

    public void sendBinary(byte[] bytes) {
        socket.sendBinary(ByteBuffer.wrap(bytes), true).join();
    }

    /** Sends a request and waits for its result or error. */
    public JsonObject call(JsonObject message) {
        int id = send(message);
        return await(m -> Integer.valueOf(id).equals(m.getValue("id")), Duration.ofSeconds(30));
    }

    /** Waits for the first message (received earlier or later) matching {@code match}, and removes it. */
    public JsonObject await(Predicate<JsonObject> match, Duration timeout) {
        return received.await(match, timeout);
    }

    /** Every message received so far and not yet taken by {@link #await}, in order; they stay queued. */
    public List<JsonObject> pending() {
        return received.pending();
    }

    /** Takes every message received so far. */
    public List<JsonObject> drain() {
        return received.drain();
    }

    /** Completes with the close status code when the broker closes the socket. */
    public CompletableFuture<Integer> closed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed.isDone()) {
            socket.abort();
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                received.add(new JsonObject(partial.toString()));
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete(-1);
        }
    }
}
