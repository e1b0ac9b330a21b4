package io.millrace.gateway.ws;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.millrace.broker.Broker;
import io.millrace.broker.BrokerMetrics;
import io.millrace.broker.json.JsonArbitraries;
import io.millrace.broker.json.JsonInput;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Mutation;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of the WebSocket gateway's JSON decoding: random and damaged messages for every operation,
 * fed to a {@link WebSocketSession} on an event loop with a fake socket and a broker that refuses every call with a
 * marker error. Each message must be answered exactly once, with a result, a pong or an error carrying a code, and a
 * message that is not a JSON object with {@code INVALID_REQUEST}. A parse failure that surfaces as any exception other
 * than a {@link MillraceException} (the session's catch-all answers "Cannot process message") is a bug, as is an
 * {@code UNKNOWN} code.
 */
class WebSocketSessionFuzzTest {

    /** What the fake broker fails every call with: a message reaching it was decoded. */
    private static final String REACHED_BROKER = "fuzz: the message reached the broker";

    /** Each operation with the fields it reads, so that most generated messages get deep into its parsing. */
    private static final Map<String, List<String>> OPS = Map.ofEntries(
            Map.entry("produce", List.of("id", "topic", "records", "key", "value", "keyBase64", "valueBase64",
                    "headers", "partition", "timestamp", "acks")),
            Map.entry("subscribe", List.of("id", "topic", "partitions", "from", "offset", "timestamp", "credits",
                    "encoding")),
            Map.entry("credit", List.of("id", "subscription", "credits")),
            Map.entry("seek", List.of("id", "subscription", "partition", "to", "offset", "timestamp")),
            Map.entry("unsubscribe", List.of("id", "subscription")),
            Map.entry("createTopic", List.of("id", "name", "partitions", "replicationFactor", "config")),
            Map.entry("listTopics", List.of("id")),
            Map.entry("describeTopic", List.of("id", "name")),
            Map.entry("addPartitions", List.of("id", "name", "partitions")),
            Map.entry("deleteTopic", List.of("id", "name")),
            Map.entry("joinGroup", List.of("id", "group", "topics", "strategy", "sessionTimeoutMs",
                    "rebalanceTimeoutMs", "autoCommit", "reset", "credits", "encoding", "clientId")),
            Map.entry("commit", List.of("id", "group", "offsets", "topic", "partition", "offset")),
            Map.entry("leaveGroup", List.of("id", "group")),
            Map.entry("ping", List.of("id")));

    private static Vertx vertx;

    @BeforeContainer
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterContainer
    static void stopVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Property(seed = Mutation.SEED)
    void everyMessageIsAnsweredOnceWithACode(@ForAll("messages") String text) throws Exception {
        List<String> replies = sendOnEventLoop(text);

        assertThat(replies).as("replies to %s", text).hasSize(1);
        JsonObject reply = new JsonObject(replies.get(0));
        assertThat(reply.getString("op")).isIn("result", "error", "pong");
        if (!isJsonObject(text)) {
            assertThat(reply.getString("op")).as("reply to %s", text).isEqualTo("error");
        }
        if ("error".equals(reply.getString("op"))) {
            JsonObject error = reply.getJsonObject("error");
            assertThat(error.getString("code")).as("reply to %s", text).isNotEqualTo(ErrorCode.UNKNOWN.name());
            assertThat(error.getString("message")).as("reply to %s", text).doesNotStartWith("Cannot process message");
            if (!isJsonObject(text)) {
                assertThat(error.getString("code")).isEqualTo(ErrorCode.INVALID_REQUEST.name());
            }
        }
    }

    @Property(seed = Mutation.SEED)
    void damagedMessagesAreAnsweredOnceWithACode(@ForAll("messages") String text,
            @ForAll("mutations") List<Mutation> mutations) throws Exception {
        String damaged = new String(Mutation.apply(text.getBytes(StandardCharsets.UTF_8), mutations),
                StandardCharsets.UTF_8);
        everyMessageIsAnsweredOnceWithACode(damaged);
    }

    /** Regression: the session parsed text wrapped in {@code {"m": ...}}, which made this a ping. */
    @Example
    void textThatIsJsonOnlyInsideAWrapperIsInvalid() throws Exception {
        everyMessageIsAnsweredOnceWithACode("1,\"m\":{\"op\":\"ping\"}");
    }

    /** Regression: a null offset or timestamp escaped as NoSuchElementException ("Cannot process message"). */
    @Example
    void aNullStartOffsetIsInvalid() throws Exception {
        everyMessageIsAnsweredOnceWithACode("{\"op\":\"subscribe\",\"topic\":\"t\",\"from\":{\"offset\":null}}");
        everyMessageIsAnsweredOnceWithACode("{\"op\":\"subscribe\",\"topic\":\"t\",\"from\":{\"timestamp\":null}}");
    }

    /** A fresh session on an event loop, given one text message; returns what it wrote back by then. */
    private static List<String> sendOnEventLoop(String text) throws Exception {
        Context context = vertx.getOrCreateContext();
        CompletableFuture<List<String>> done = new CompletableFuture<>();
        context.runOnContext(v -> {
            try {
                List<String> replies = new ArrayList<>();
                List<Handler<String>> textHandler = new ArrayList<>();
                WebSocketSession session = new WebSocketSession(fakeSocket(textHandler, replies), refusingBroker(),
                        new BrokerMetrics(new SimpleMeterRegistry()),
                        new WebSocketSettings(65536, 10, 10, 30_000, 4, 16, 1000, 0, 1000, 65536,
                                new JsonInput(32, 2 * 1024 * 1024)));
                session.start();
                textHandler.get(0).handle(text);
                session.closed();
                done.complete(replies);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done.get(10, TimeUnit.SECONDS);
    }

    private static boolean isJsonObject(String text) {
        try {
            return Json.decodeValue(text) instanceof JsonObject;
        } catch (DecodeException e) {
            return false;
        }
    }

    /** A socket that keeps the text handler, records what is written, and is fluent for everything else. */
    private static ServerWebSocket fakeSocket(List<Handler<String>> textHandler, List<String> written) {
        return (ServerWebSocket) Proxy.newProxyInstance(ServerWebSocket.class.getClassLoader(),
                new Class<?>[] {ServerWebSocket.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "textMessageHandler" -> textHandler.add(cast(args[0]));
                        case "writeTextMessage" -> written.add((String) args[0]);
                        case "remoteAddress", "localAddress" -> {
                            return SocketAddress.inetSocketAddress(40000, "127.0.0.1");
                        }
                        case "hashCode" -> {
                            return System.identityHashCode(proxy);
                        }
                        case "equals" -> {
                            return proxy == args[0];
                        }
                        case "toString" -> {
                            return "fake WebSocket";
                        }
                        default -> {
                        }
                    }
                    Class<?> type = method.getReturnType();
                    if (type.isInstance(proxy)) {
                        return proxy;
                    } else if (type == Future.class) {
                        return Future.succeededFuture();
                    } else if (type.isPrimitive() && type != void.class) {
                        return java.lang.reflect.Array.get(java.lang.reflect.Array.newInstance(type, 1), 0);
                    }
                    return null;
                });
    }

    /** A broker that fails every call with {@link #REACHED_BROKER}. */
    private static Broker refusingBroker() {
        return (Broker) Proxy.newProxyInstance(Broker.class.getClassLoader(), new Class<?>[] {Broker.class},
                (proxy, method, args) -> {
                    if (method.getReturnType() == Future.class) {
                        return Future.failedFuture(new MillraceException(ErrorCode.STORAGE_ERROR, REACHED_BROKER));
                    }
                    if (method.getReturnType() == int.class) {
                        return 1;
                    }
                    throw new UnsupportedOperationException("the fuzzed gateway called " + method);
                });
    }

    @SuppressWarnings("unchecked")
    private static <T> Handler<T> cast(Object handler) {
        return (Handler<T>) handler;
    }

    @Provide
    Arbitrary<String> messages() {
        Arbitrary<String> operations = Arbitraries.of(OPS.keySet().stream().sorted().toList())
                .flatMap(op -> JsonArbitraries.objects(OPS.get(op), 2).map(m -> m.put("op", op).encode()));
        Arbitrary<String> anyOp = Combinators.combine(JsonArbitraries.values(1), JsonArbitraries.objects(2))
                .as((op, message) -> message.put("op", op).encode());
        Arbitrary<String> other = Arbitraries.oneOf(JsonArbitraries.values(2).map(Json::encode),
                Arbitraries.strings().ofMaxLength(40));
        return Arbitraries.frequencyOf(Tuple.of(8, operations), Tuple.of(1, anyOp), Tuple.of(1, other));
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        return Mutation.lists(3);
    }
}
