package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The REST API of one real broker process: admin, simple produce/consume, errors, health and metrics. */
class RestApiIT {

    /** Short, so that a long-poll can outlast it: the time the broker prepares an answer is never idle. */
    private static final int HTTP_IDLE_TIMEOUT_MS = 2000;

    static BrokerProcess broker;
    static Rest rest;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("rest", Map.of("http.idle.timeout.ms", Integer.toString(HTTP_IDLE_TIMEOUT_MS)));
        rest = new Rest(broker.baseUrl());
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void topicLifecycle() {
        JsonObject created = rest.createTopic("lifecycle", 2);
        assertThat(created.getJsonArray("partitions")).hasSize(2);
        assertThat(rest.get("/api/topics").array().stream().map(t -> ((JsonObject) t).getString("name")))
                .contains("lifecycle");

        JsonObject described = rest.get("/api/topics/lifecycle").json();
        JsonObject p0 = described.getJsonArray("partitions").getJsonObject(0);
        assertThat(p0.getInteger("leader")).isZero();
        assertThat(p0.getJsonArray("replicas")).containsExactly(0);
        assertThat(p0.getLong("logEndOffset")).isZero();
        assertThat(p0.getLong("highWatermark")).isZero();

        Rest.Response grown = rest.post("/api/topics/lifecycle/partitions", "{\"partitions\": 5}");
        assertThat(grown.status()).isEqualTo(200);
        assertThat(grown.json().getJsonArray("partitions")).hasSize(5);
        Rest.Response shrink = rest.post("/api/topics/lifecycle/partitions", "{\"partitions\": 3}");
        assertThat(shrink.status()).isEqualTo(400);
        assertThat(shrink.errorCode()).isEqualTo("INVALID_REQUEST");

        assertThat(rest.delete("/api/topics/lifecycle").status()).isEqualTo(204);
        assertThat(rest.get("/api/topics/lifecycle").status()).isEqualTo(404);
        assertThat(rest.createTopic("lifecycle", 1).getJsonArray("partitions")).hasSize(1);
        assertThat(rest.get("/api/topics/lifecycle").json().getJsonArray("partitions").getJsonObject(0)
                .getLong("logEndOffset")).isZero();
    }

    @Test
    void topicCreationErrorsAreClear() {
        rest.createTopic("dup", 1);
        Rest.Response dup = rest.post("/api/topics", "{\"name\":\"dup\",\"partitions\":1}");
        assertThat(dup.status()).isEqualTo(409);
        assertThat(dup.errorCode()).isEqualTo("TOPIC_ALREADY_EXISTS");

        Rest.Response rf = rest.post("/api/topics", "{\"name\":\"rf\",\"partitions\":1,\"replicationFactor\":3}");
        assertThat(rf.status()).isEqualTo(400);
        assertThat(rf.errorCode()).isEqualTo("INVALID_REPLICATION_FACTOR");
        assertThat(rf.json().getJsonObject("error").getString("message")).contains("live broker");

        assertThat(rest.post("/api/topics", "{\"name\":\"bad/name\"}").errorCode()).isEqualTo("INVALID_TOPIC");
        assertThat(rest.post("/api/topics", "{\"name\":\"x\",\"partitions\":\"two\"}").errorCode())
                .isEqualTo("INVALID_REQUEST");
        assertThat(rest.post("/api/topics", "{\"name\":\"x\",\"config\":{\"retention.ms\":\"soon\"}}").errorCode())
                .isEqualTo("INVALID_CONFIG");
        assertThat(rest.post("/api/topics", "{not json").status()).isEqualTo(400);
        assertThat(rest.get("/api/nothing-here").status()).isEqualTo(400);
    }

    @Test
    void produceAndConsumeOverRest() {
        rest.createTopic("rest-data", 1);
        Rest.Response produced = rest.post("/api/topics/rest-data/records", new JsonObject().put("records",
                new JsonArray().add(new JsonObject().put("key", "k").put("value", "one")
                                .put("headers", new JsonObject().put("h", "v")))
                        .add(new JsonObject().put("valueBase64", "AAEC"))));
        assertThat(produced.status()).isEqualTo(200);
        assertThat(produced.json().getJsonArray("offsets").getJsonObject(1).getLong("offset")).isEqualTo(1);

        JsonObject consumed = rest.get("/api/topics/rest-data/partitions/0/records?offset=0").json();
        JsonArray records = consumed.getJsonArray("records");
        assertThat(records).hasSize(2);
        assertThat(records.getJsonObject(0).getString("value")).isEqualTo("one");
        assertThat(records.getJsonObject(0).getJsonArray("headers").getJsonObject(0).getString("value"))
                .isEqualTo("v");
        assertThat(consumed.getLong("nextOffset")).isEqualTo(2);
        JsonObject binary = rest.get("/api/topics/rest-data/partitions/0/records?offset=1&encoding=base64").json();
        assertThat(binary.getJsonArray("records").getJsonObject(0).getString("valueBase64")).isEqualTo("AAEC");

        assertThat(rest.get("/api/topics/rest-data/partitions/0/records?offset=9").errorCode())
                .isEqualTo("OFFSET_OUT_OF_RANGE");
        assertThat(rest.get("/api/topics/rest-data/partitions/7/records").status()).isEqualTo(404);
        assertThat(rest.post("/api/topics/nope/records", "{\"value\":\"x\"}").errorCode())
                .isEqualTo("UNKNOWN_TOPIC_OR_PARTITION");
    }

    @Test
    void longPollFetchWakesWhenDataArrives() throws Exception {
        rest.createTopic("long-poll", 1);
        long start = System.nanoTime();
        java.util.concurrent.CompletableFuture<Rest.Response> waiting = java.util.concurrent.CompletableFuture
                .supplyAsync(() -> rest.get("/api/topics/long-poll/partitions/0/records?offset=0&maxWaitMs=20000"));
        Thread.sleep(300);
        assertThat(waiting).isNotDone();
        rest.post("/api/topics/long-poll/records", "{\"value\":\"wake up\"}");
        Rest.Response r = waiting.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r.json().getJsonArray("records").getJsonObject(0).getString("value")).isEqualTo("wake up");
        assertThat(System.nanoTime() - start).isLessThan(java.util.concurrent.TimeUnit.SECONDS.toNanos(10));
    }

    @Test
    void aLongPollLongerThanTheIdleTimeoutIsAnswered() throws Exception {
        rest.createTopic("patient", 1);
        int maxWaitMs = 3 * HTTP_IDLE_TIMEOUT_MS;
        // One plain connection: an HTTP client library would send the GET again on a new connection if the first
        // were cut, and hide the loss.
        try (LimitsIT.RawConnection connection = LimitsIT.RawConnection.from(InetAddress.getLoopbackAddress(),
                broker.httpPort())) {
            long start = System.nanoTime();
            String answer = connection.get("/api/topics/patient/partitions/0/records?offset=0&maxWaitMs=" + maxWaitMs);
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(answer).startsWith("HTTP/1.1 200");
            assertThat(new JsonObject(answer.substring(answer.indexOf("\r\n\r\n") + 4)).getJsonArray("records"))
                    .isEmpty();
            assertThat(tookMs).as("answered when its wait ran out, not cut by the idle timeout")
                    .isGreaterThanOrEqualTo(maxWaitMs - 100L);
        }
        assertThat(rest.get("/health").status()).isEqualTo(200);
    }

    @Test
    void healthBrokersAndMetrics() {
        assertThat(rest.get("/health").json().getString("status")).isEqualTo("ready");
        JsonObject self = rest.get("/api/brokers").array().getJsonObject(0);
        assertThat(self.getInteger("id")).isZero();
        assertThat(self.getInteger("tcpPort")).isEqualTo(broker.tcpPort());
        assertThat(self.getBoolean("alive")).isTrue();
        assertThat(self.getBoolean("controller")).isTrue();

        rest.createTopic("metered", 1);
        rest.post("/api/topics/metered/records", "{\"value\":\"x\"}");
        String metrics = rest.get("/metrics").body();
        assertThat(metrics).contains("millrace_records_in_total{topic=\"metered\"} 1.0");
        assertThat(metrics).contains("millrace_partition_log_end_offset{partition=\"0\",topic=\"metered\"} 1.0");
        assertThat(metrics).contains("millrace_request_seconds_count{operation=\"produce\"}");
        assertThat(metrics).contains("vertx_http_server");
    }

    /**
     * A load balancer polls /health: creating a topic, while its partitions are being opened, must not make a running
     * broker look unavailable (FuzzInputIT once saw 503 while the offsets topic was being created).
     */
    @Test
    void healthStaysReadyWhileATopicIsBeingCreated() throws Exception {
        java.util.concurrent.CompletableFuture<JsonObject> created = java.util.concurrent.CompletableFuture
                .supplyAsync(() -> rest.createTopic("opening", 400));
        java.util.List<Integer> statuses = new java.util.ArrayList<>();
        while (!created.isDone()) {
            Rest.Response health = rest.get("/health");
            statuses.add(health.status());
            assertThat(health.json().getJsonArray("partitionsOpening")).isNotNull();
        }
        assertThat(created.get().getJsonArray("partitions")).hasSize(400);
        // Without the fix this saw 503 whenever a poll fell while the partitions were being opened (most runs).
        assertThat(statuses).isNotEmpty().containsOnly(200);
        assertThat(rest.get("/health").json().getJsonArray("partitionsOpening")).isEmpty();
        assertThat(rest.delete("/api/topics/opening").status()).isEqualTo(204);
    }
}
