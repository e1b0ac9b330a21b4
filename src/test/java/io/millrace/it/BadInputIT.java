package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Malformed input of every kind, sent while a well-behaved client keeps producing and consuming: each bad
 * connection gets an error code and a message, the good client sees no failure, and nothing acknowledged is lost.
 */
class BadInputIT {

    static BrokerProcess broker;
    static Rest rest;
    static GoodClient good;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("bad-input", Map.of("ws.max.frame.bytes", "65536"));
        rest = new Rest(broker.baseUrl());
        rest.createTopic("steady", 2);
        good = new GoodClient(broker);
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
            assertThat(broker.healthStatus()).isEqualTo(200);
        } finally {
            broker.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            garbage text                 | this is not json at all             | INVALID_REQUEST
            truncated json               | {"op":"produce","topic":"steady"    | INVALID_REQUEST
            json array, not object       | [1,2,3]                             | INVALID_REQUEST
            missing op                   | {"id":1}                            | INVALID_REQUEST
            unknown op                   | {"op":"launchRockets","id":1}       | INVALID_REQUEST
            op of wrong type             | {"op":42,"id":1}                    | INVALID_REQUEST
            value of wrong type          | {"op":"produce","id":1,"topic":"steady","value":17} | INVALID_REQUEST
            partition of wrong type      | {"op":"produce","id":1,"topic":"steady","value":"v","partition":"zero"} | INVALID_REQUEST
            unknown topic                | {"op":"produce","id":1,"topic":"nope","value":"v"} | UNKNOWN_TOPIC_OR_PARTITION
            unknown partition            | {"op":"produce","id":1,"topic":"steady","value":"v","partition":9} | UNKNOWN_TOPIC_OR_PARTITION
            subscribe unknown partition  | {"op":"subscribe","id":1,"topic":"steady","partitions":[5]} | UNKNOWN_TOPIC_OR_PARTITION
            negative offset              | {"op":"subscribe","id":1,"topic":"steady","from":{"offset":-3}} | INVALID_REQUEST
            offset beyond the log        | {"op":"subscribe","id":1,"topic":"steady","from":{"offset":999999999}} | OFFSET_OUT_OF_RANGE
            credit for no subscription   | {"op":"credit","id":1,"subscription":"s99","credits":5} | INVALID_REQUEST
            negative credits             | {"op":"subscribe","id":1,"topic":"steady","credits":-5} | INVALID_REQUEST
            bad base64                   | {"op":"produce","id":1,"topic":"steady","valueBase64":"!!!"} | INVALID_REQUEST
            bad acks                     | {"op":"produce","id":1,"topic":"steady","value":"v","acks":7} | INVALID_REQUEST
            """)
    void webSocketBadMessageGetsAnErrorAndTheSocketStaysUsable(String kind, String text, String code) {
        try (WsClient ws = WsClient.connect(broker.webSocketUri())) {
            ws.sendRaw(text);
            JsonObject error = ws.await(m -> "error".equals(m.getString("op")), Duration.ofSeconds(10));
            assertThat(error.getJsonObject("error").getString("code")).as(kind).isEqualTo(code);
            assertThat(error.getJsonObject("error").getString("message")).isNotBlank();
            assertThat(ws.call(new JsonObject().put("op", "ping")).getString("op")).isEqualTo("pong");
        }
    }

    @Test
    void webSocketBinaryFrameIsRefused() {
        try (WsClient ws = WsClient.connect(broker.webSocketUri())) {
            ws.sendBinary(new byte[] {1, 2, 3, 4});
            JsonObject error = ws.await(m -> "error".equals(m.getString("op")), Duration.ofSeconds(10));
            assertThat(error.getJsonObject("error").getString("code")).isEqualTo("INVALID_REQUEST");
        }
    }

    @Test
    void webSocketOversizedMessageClosesOnlyThatSocket() throws Exception {
        try (WsClient ws = WsClient.connect(broker.webSocketUri());
             WsClient bystander = WsClient.connect(broker.webSocketUri())) {
            String huge = new JsonObject().put("op", "produce").put("topic", "steady")
                    .put("value", "x".repeat(100_000)).encode();
            ws.sendRaw(huge);
            assertThat(ws.closed().get(10, TimeUnit.SECONDS)).isEqualTo(1009);
            assertThat(bystander.call(new JsonObject().put("op", "ping")).getString("op")).isEqualTo("pong");
        }
    }

    @Test
    void restBadBodiesGetErrors() {
        assertThat(rest.post("/api/topics/steady/records", "][").errorCode()).isEqualTo("INVALID_REQUEST");
        assertThat(rest.post("/api/topics/steady/records", "{\"records\":[]}").errorCode())
                .isEqualTo("INVALID_REQUEST");
        assertThat(rest.post("/api/topics/steady/records", "{\"records\":[{\"value\":1}]}").errorCode())
                .isEqualTo("INVALID_REQUEST");
        assertThat(rest.get("/api/topics/steady/partitions/0/records?offset=-1").errorCode())
                .isEqualTo("INVALID_REQUEST");
    }

    /**
     * Produces over one WebSocket (acks=all) and consumes over another, checking every answer, until stopped.
     */
    static final class GoodClient {
        private final BrokerProcess broker;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<String> acknowledged = new ArrayList<>();
        private CompletableFuture<Void> loop;

        GoodClient(BrokerProcess broker) {
            this.broker = broker;
        }

        void start() {
            loop = CompletableFuture.runAsync(() -> {
                try (WsClient producer = WsClient.connect(broker.webSocketUri());
                     WsClient consumer = WsClient.connect(broker.webSocketUri())) {
                    JsonObject sub = consumer.call(new JsonObject().put("op", "subscribe").put("topic", "steady")
                            .put("from", "earliest").put("credits", 10_000));
                    assertThat(sub.getString("op")).isEqualTo("result");
                    int n = 0;
                    while (running.get()) {
                        String value = "good-" + n++;
                        JsonObject ack = producer.call(new JsonObject().put("op", "produce").put("topic", "steady")
                                .put("acks", "all").put("records", new JsonArray().add(new JsonObject()
                                        .put("key", "k" + (n % 7)).put("value", value))));
                        if (!"result".equals(ack.getString("op"))) {
                            throw new AssertionError("good producer got " + ack);
                        }
                        synchronized (acknowledged) {
                            acknowledged.add(value);
                        }
                        List<String> seen = new ArrayList<>();
                        while (seen.isEmpty()) {
                            JsonObject push = consumer.await(m -> "records".equals(m.getString("op"))
                                    || "error".equals(m.getString("op")), Duration.ofSeconds(10));
                            if (!"records".equals(push.getString("op"))) {
                                throw new AssertionError("good consumer got " + push);
                            }
                            push.getJsonArray("records").forEach(r -> seen.add(((JsonObject) r).getString("value")));
                        }
                        assertThat(seen).contains(value);
                    }
                }
            });
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
