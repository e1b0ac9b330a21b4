package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One topic fanned out to many WebSockets of one real broker process. The broker spreads sockets over its event
 * loops, and the sockets of one loop share their fetches and their encoded {@code records} messages; whatever the
 * others on its loop asked for (less credit, another encoding, another subscription id, another position), each
 * socket must get exactly its own records.
 */
class WebSocketFanOutIT {

    private static final String TOPIC = "fan-out";
    private static final int PARTITIONS = 3;
    private static final int SOCKETS = 40;
    private static final int RECORDS = 50;
    private static final Duration PUSH_WAIT = Duration.ofSeconds(20);

    static BrokerProcess broker;
    static Rest rest;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("ws-fan-out", Map.of());
        rest = new Rest(broker.baseUrl());
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void everySocketGetsEachRecordOnceWhateverTheSocketsBesideItAskFor() {
        rest.createTopic(TOPIC, PARTITIONS);
        rest.createTopic("fan-out-side", 1);
        Expected expected = new Expected();
        List<Subscriber> all = new ArrayList<>();
        try (WsClient producer = WsClient.connect(broker.webSocketUri())) {
            List<Subscriber> ample = new ArrayList<>();
            for (int i = 0; i < SOCKETS; i++) {
                // some sockets read under another subscription id, some in base64
                ample.add(Subscriber.open(all, "latest", 1_000, i % 3 == 1, i % 4 == 3 ? "base64" : "utf8"));
            }
            Subscriber short3 = Subscriber.open(all, "latest", 3, false, "utf8");
            Subscriber leaver = Subscriber.open(all, "latest", 1_000, false, "utf8");

            produceHalf(producer, expected, 0);
            for (Subscriber s : ample) {
                s.collect(RECORDS / 2);
            }
            leaver.collect(RECORDS / 2);
            short3.collect(3);
            JsonObject left = leaver.ws.call(new JsonObject().put("op", "unsubscribe").put("subscription", leaver.sid));
            assertThat(left.getString("op")).isEqualTo("result");
            Subscriber late = Subscriber.open(all, "earliest", 1_000, false, "utf8");

            produceHalf(producer, expected, RECORDS / 2);
            for (Subscriber s : ample) {
                s.collect(RECORDS);
            }
            late.collect(RECORDS);

            for (Subscriber s : ample) {
                assertThat(s.received).as("socket %d", ample.indexOf(s)).isEqualTo(expected.all());
            }
            assertThat(late.received).isEqualTo(expected.all());
            assertThat(leaver.received).isEqualTo(expected.firstHalf());
            assertThat(short3.count()).isEqualTo(3);
            assertThat(short3.received).allSatisfy((p, got) -> assertThat(expected.all().get(p))
                    .startsWith(got.toArray(Offset[]::new)));
            // nothing more comes: not to the socket that left, not beyond a credit, not twice to anyone
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                    .until(() -> all.stream().noneMatch(Subscriber::hasPendingRecords));

            short3.ws.send(new JsonObject().put("op", "credit").put("subscription", short3.sid)
                    .put("credits", RECORDS - 3));
            short3.collect(RECORDS);
            assertThat(short3.received).isEqualTo(expected.all());
            assertThat(all).noneMatch(Subscriber::hasPendingRecords);
        } finally {
            all.forEach(s -> s.ws.close());
        }
    }

    /**
     * A subscription may ask for its own linger ({@code lingerMs}): a stream appended one record at a time then
     * reaches it in pushes at least that far apart, while a subscription beside it on the same partition that asks for
     * none still gets every record. A linger outside 0 to 1000 ms is refused.
     */
    @Test
    void aSubscriptionsOwnLingerGathersAStreamIntoFewerPushes() {
        String topic = "lingering";
        int records = 20;
        long lingerMs = 400;
        rest.createTopic(topic, 1);
        try (WsClient producer = WsClient.connect(broker.webSocketUri());
             WsClient patient = WsClient.connect(broker.webSocketUri());
             WsClient eager = WsClient.connect(broker.webSocketUri())) {
            for (Object bad : List.of(-1, 1_001, "16", 2.5)) {
                JsonObject refused = patient.call(new JsonObject().put("op", "subscribe").put("topic", topic)
                        .put("lingerMs", bad));
                assertThat(refused.getJsonObject("error").getString("code")).as("lingerMs %s", bad)
                        .isEqualTo("INVALID_REQUEST");
                assertThat(refused.getJsonObject("error").getString("message")).contains("lingerMs");
            }
            String patientId = subscribeLatest(patient, topic, lingerMs);
            String eagerId = subscribeLatest(eager, topic, 0);

            long started = System.nanoTime();
            for (int i = 0; i < records; i++) {
                JsonObject ack = producer.call(new JsonObject().put("op", "produce").put("topic", topic)
                        .put("acks", "all").put("value", "r" + i));
                assertThat(ack.getString("op")).as("%s", ack).isEqualTo("result");
            }
            long producingMs = (System.nanoTime() - started) / 1_000_000;

            await().atMost(PUSH_WAIT).until(() -> pushedValues(patient, patientId).size() >= records
                    && pushedValues(eager, eagerId).size() >= records);
            List<String> expected = IntStream.range(0, records).mapToObj(i -> "r" + i).toList();
            assertThat(pushedValues(patient, patientId)).isEqualTo(expected);
            assertThat(pushedValues(eager, eagerId)).isEqualTo(expected);
            // A lingering subscription is pushed to only at its ticks, a linger apart.
            long pushes = patient.pending().stream().filter(m -> isPushTo(m, patientId)).count();
            assertThat(pushes).as("pushes of %d records produced over %d ms to a %d ms linger", records,
                    producingMs, lingerMs).isLessThanOrEqualTo(2 + producingMs / lingerMs);
        }
    }

    private static String subscribeLatest(WsClient ws, String topic, long lingerMs) {
        JsonObject answer = ws.call(new JsonObject().put("op", "subscribe").put("topic", topic).put("from", "latest")
                .put("credits", 1_000).put("lingerMs", lingerMs));
        assertThat(answer.getString("op")).as("%s", answer).isEqualTo("result");
        return answer.getString("subscription");
    }

    private static boolean isPushTo(JsonObject message, String subscription) {
        return "records".equals(message.getString("op")) && subscription.equals(message.getString("subscription"));
    }

    /** The values pushed to {@code subscription} so far, in order (the messages stay queued). */
    private static List<String> pushedValues(WsClient ws, String subscription) {
        List<String> values = new ArrayList<>();
        ws.pending().stream().filter(m -> isPushTo(m, subscription)).forEach(m -> m.getJsonArray("records")
                .forEach(r -> values.add(((JsonObject) r).getString("value"))));
        return values;
    }

    /**
     * Produces records {@code first} to {@code first + 24}: through REST, keyed, in two requests; then over the
     * producer's WebSocket, unkeyed in one request, one at a time to an explicit partition, and keyed.
     */
    private static void produceHalf(WsClient producer, Expected expected, int first) {
        int n = first;
        for (int request = 0; request < 2; request++) {
            JsonArray records = new JsonArray();
            for (int i = 0; i < 6; i++, n++) {
                records.add(new JsonObject().put("key", "customer-" + (n % 7)).put("value", value(n)));
            }
            Rest.Response response = rest.post("/api/topics/" + TOPIC + "/records",
                    new JsonObject().put("records", records));
            assertThat(response.status()).isEqualTo(200);
            expected.add(records, response.json().getJsonArray("offsets"));
        }
        JsonArray unkeyed = new JsonArray();
        for (int i = 0; i < 5; i++, n++) {
            unkeyed.add(new JsonObject().put("value", value(n)));
        }
        expected.add(unkeyed, produce(producer, unkeyed));
        for (int i = 0; i < 4; i++, n++) {
            JsonArray one = new JsonArray().add(new JsonObject().put("partition", n % PARTITIONS)
                    .put("value", value(n)));
            expected.add(one, produce(producer, one));
        }
        JsonArray keyed = new JsonArray();
        for (; n < first + RECORDS / 2; n++) {
            keyed.add(new JsonObject().put("key", "k" + n).put("value", value(n)));
        }
        expected.add(keyed, produce(producer, keyed));
    }

    private static JsonArray produce(WsClient producer, JsonArray records) {
        JsonObject ack = producer.call(new JsonObject().put("op", "produce").put("topic", TOPIC).put("acks", "all")
                .put("records", records));
        assertThat(ack.getString("op")).as("%s", ack).isEqualTo("result");
        return ack.getJsonArray("offsets");
    }

    private static String value(int n) {
        return "välue-" + n + (n % 5 == 0 ? " \"quoted\"" : "");
    }

    /** What was produced, per partition: offset to value, in offset order. */
    private static final class Expected {
        private final Map<Integer, TreeMap<Long, String>> byPartition = new TreeMap<>();
        private Map<Integer, List<Offset>> firstHalf;

        void add(JsonArray records, JsonArray offsets) {
            assertThat(offsets).hasSize(records.size());
            for (int i = 0; i < records.size(); i++) {
                JsonObject at = offsets.getJsonObject(i);
                byPartition.computeIfAbsent(at.getInteger("partition"), p -> new TreeMap<>())
                        .put(at.getLong("offset"), records.getJsonObject(i).getString("value"));
            }
            if (firstHalf == null && count() == RECORDS / 2) {
                firstHalf = all();
            }
        }

        int count() {
            return byPartition.values().stream().mapToInt(Map::size).sum();
        }

        Map<Integer, List<Offset>> all() {
            Map<Integer, List<Offset>> out = new TreeMap<>();
            byPartition.forEach((p, records) -> out.put(p, records.entrySet().stream()
                    .map(e -> new Offset(e.getKey(), e.getValue())).toList()));
            return out;
        }

        Map<Integer, List<Offset>> firstHalf() {
            return firstHalf;
        }
    }

    /** One record as a socket saw it. */
    private record Offset(long offset, String value) {
    }

    /** A socket with one subscription to {@link #TOPIC}, and what it was pushed, per partition in arrival order. */
    private static final class Subscriber {
        final WsClient ws;
        final String sid;
        final boolean base64;
        final Map<Integer, List<Offset>> received = new TreeMap<>();

        private Subscriber(WsClient ws, String sid, boolean base64) {
            this.ws = ws;
            this.sid = sid;
            this.base64 = base64;
        }

        /**
         * Connects and subscribes to every partition from {@code from}; with {@code otherId}, a subscription with no
         * credit to another topic comes first, so this one is not the socket's "s1".
         */
        static Subscriber open(List<Subscriber> all, String from, int credits, boolean otherId, String encoding) {
            WsClient ws = WsClient.connect(broker.webSocketUri());
            if (otherId) {
                ws.call(new JsonObject().put("op", "subscribe").put("topic", "fan-out-side"));
            }
            JsonObject sub = ws.call(new JsonObject().put("op", "subscribe").put("topic", TOPIC).put("from", from)
                    .put("credits", credits).put("encoding", encoding));
            assertThat(sub.getString("op")).as("%s", sub).isEqualTo("result");
            assertThat(sub.getJsonArray("partitions")).hasSize(PARTITIONS);
            Subscriber subscriber = new Subscriber(ws, sub.getString("subscription"), encoding.equals("base64"));
            assertThat(subscriber.sid).isEqualTo(otherId ? "s2" : "s1");
            all.add(subscriber);
            return subscriber;
        }

        /** Takes pushes until {@code total} records have come in all (or fails after a quiet {@link #PUSH_WAIT}). */
        void collect(int total) {
            while (count() < total) {
                JsonObject push = ws.await(m -> "records".equals(m.getString("op")), PUSH_WAIT);
                assertThat(push.getString("subscription")).isEqualTo(sid);
                assertThat(push.getString("topic")).isEqualTo(TOPIC);
                int partition = push.getInteger("partition");
                JsonArray records = push.getJsonArray("records");
                assertThat(records).isNotEmpty();
                for (Object o : records) {
                    JsonObject r = (JsonObject) o;
                    assertThat(r.getInteger("partition")).isEqualTo(partition);
                    assertThat(r.getLong("offset")).isLessThan(push.getLong("highWatermark"));
                    String value = base64 ? new String(Base64.getDecoder().decode(r.getString("valueBase64")),
                            StandardCharsets.UTF_8) : r.getString("value");
                    received.computeIfAbsent(partition, p -> new ArrayList<>()).add(new Offset(r.getLong("offset"),
                            value));
                }
            }
        }

        int count() {
            return received.values().stream().mapToInt(List::size).sum();
        }

        boolean hasPendingRecords() {
            return ws.pending().stream().anyMatch(m -> "records".equals(m.getString("op")));
        }
    }
}
