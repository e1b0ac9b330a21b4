package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The WebSocket gateway of one real broker process, driven over real sockets as a browser would. */
class WebSocketIT {

    static BrokerProcess broker;
    static Rest rest;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("ws", Map.of());
        rest = new Rest(broker.baseUrl());
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void adminOperationsOverWebSocket() {
        try (WsClient ws = WsClient.connect(broker.webSocketUri())) {
            JsonObject created = ws.call(new JsonObject().put("op", "createTopic").put("name", "ws-admin")
                    .put("partitions", 2));
            assertThat(created.getString("op")).isEqualTo("result");
            assertThat(created.getJsonArray("partitions")).hasSize(2);
            assertThat(ws.call(new JsonObject().put("op", "listTopics")).getJsonArray("topics")).contains("ws-admin");
            assertThat(ws.call(new JsonObject().put("op", "describeTopic").put("name", "ws-admin"))
                    .getJsonArray("partitions")).hasSize(2);
            JsonObject again = ws.call(new JsonObject().put("op", "createTopic").put("name", "ws-admin"));
            assertThat(again.getString("op")).isEqualTo("error");
            assertThat(again.getJsonObject("error").getString("code")).isEqualTo("TOPIC_ALREADY_EXISTS");
            assertThat(ws.call(new JsonObject().put("op", "ping")).getString("op")).isEqualTo("pong");
        }
    }

    @Test
    void keyedRecordsLandInKafkasPartitionAndKeepTheirOrder() {
        int partitions = 6;
        rest.createTopic("ws-keys", partitions);
        try (WsClient producer = WsClient.connect(broker.webSocketUri())) {
            Map<String, List<String>> sentPerKey = new HashMap<>();
            for (int round = 0; round < 5; round++) {
                JsonArray records = new JsonArray();
                for (int k = 0; k < 20; k++) {
                    String key = "customer-" + k;
                    String value = key + "#" + round;
                    records.add(new JsonObject().put("key", key).put("value", value));
                    sentPerKey.computeIfAbsent(key, x -> new ArrayList<>()).add(value);
                }
                JsonObject ack = producer.call(new JsonObject().put("op", "produce").put("topic", "ws-keys")
                        .put("acks", "all").put("records", records));
                JsonArray offsets = ack.getJsonArray("offsets");
                for (int k = 0; k < 20; k++) {
                    byte[] key = ("customer-" + k).getBytes(StandardCharsets.UTF_8);
                    int kafkaPartition = Utils.toPositive(Utils.murmur2(key)) % partitions;
                    assertThat(offsets.getJsonObject(k).getInteger("partition")).isEqualTo(kafkaPartition);
                }
            }
            try (WsClient consumer = WsClient.connect(broker.webSocketUri())) {
                JsonObject sub = consumer.call(new JsonObject().put("op", "subscribe").put("topic", "ws-keys")
                        .put("from", "earliest").put("credits", 1000));
                assertThat(sub.getJsonArray("partitions")).hasSize(partitions);
                Map<String, List<String>> seenPerKey = new HashMap<>();
                Map<Integer, Long> lastOffset = new HashMap<>();
                int seen = 0;
                while (seen < 100) {
                    JsonObject push = consumer.await(m -> "records".equals(m.getString("op")), Duration.ofSeconds(20));
                    for (Object o : push.getJsonArray("records")) {
                        JsonObject r = (JsonObject) o;
                        int p = r.getInteger("partition");
                        long offset = r.getLong("offset");
                        assertThat(offset).isGreaterThan(lastOffset.getOrDefault(p, -1L));
                        assertThat(offset).isLessThan(push.getLong("highWatermark"));
                        lastOffset.put(p, offset);
                        seenPerKey.computeIfAbsent(r.getString("key"), x -> new ArrayList<>()).add(r.getString("value"));
                        seen++;
                    }
                }
                assertThat(seenPerKey).isEqualTo(sentPerKey);
            }
        }
    }

    @Test
    void aSubscriberGetsExactlyWhatItsCreditsAllowAndLiveRecordsArrive() throws Exception {
        rest.createTopic("ws-credits", 1);
        JsonArray records = new JsonArray();
        for (int i = 0; i < 50; i++) {
            records.add(new JsonObject().put("value", "r" + i));
        }
        rest.post("/api/topics/ws-credits/records", new JsonObject().put("records", records));
        try (WsClient consumer = WsClient.connect(broker.webSocketUri())) {
            JsonObject sub = consumer.call(new JsonObject().put("op", "subscribe").put("topic", "ws-credits")
                    .put("from", new JsonObject().put("offset", 5)).put("credits", 7));
            String sid = sub.getString("subscription");
            List<String> got = collect(consumer, 7);
            assertThat(got).containsExactly("r5", "r6", "r7", "r8", "r9", "r10", "r11");
            Thread.sleep(500);
            assertThat(consumer.pending()).noneMatch(m -> "records".equals(m.getString("op")));

            consumer.send(new JsonObject().put("op", "credit").put("subscription", sid).put("credits", 3));
            assertThat(collect(consumer, 3)).containsExactly("r12", "r13", "r14");

            consumer.call(new JsonObject().put("op", "seek").put("subscription", sid).put("partition", 0)
                    .put("to", "latest"));
            consumer.send(new JsonObject().put("op", "credit").put("subscription", sid).put("credits", 1));
            rest.post("/api/topics/ws-credits/records", "{\"value\":\"live\"}");
            assertThat(collect(consumer, 1)).containsExactly("live");

            JsonObject done = consumer.call(new JsonObject().put("op", "unsubscribe").put("subscription", sid));
            assertThat(done.getString("op")).isEqualTo("result");
        }
    }

    @Test
    void subscribeFromATimestamp() {
        rest.createTopic("ws-time", 1);
        rest.post("/api/topics/ws-time/records", "{\"records\":[{\"value\":\"old\",\"timestamp\":1000},"
                + "{\"value\":\"new\",\"timestamp\":5000}]}");
        try (WsClient consumer = WsClient.connect(broker.webSocketUri())) {
            JsonObject sub = consumer.call(new JsonObject().put("op", "subscribe").put("topic", "ws-time")
                    .put("from", new JsonObject().put("timestamp", 3000)).put("credits", 10));
            assertThat(sub.getJsonArray("partitions").getJsonObject(0).getLong("offset")).isEqualTo(1);
            assertThat(collect(consumer, 1)).containsExactly("new");
        }
    }

    static List<String> collect(WsClient consumer, int count) {
        List<String> values = new ArrayList<>();
        while (values.size() < count) {
            JsonObject push = consumer.await(m -> "records".equals(m.getString("op")), Duration.ofSeconds(20));
            push.getJsonArray("records").forEach(r -> values.add(((JsonObject) r).getString("value")));
        }
        return values;
    }
}
