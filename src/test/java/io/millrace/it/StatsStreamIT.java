package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's side of the broker over real HTTP: the live stats stream (history first, then a frame a second
 * whose rates follow the traffic, a limit on open streams that frees up when pages leave) and the dashboard's files
 * with their caching, beside the API, which keeps working.
 */
class StatsStreamIT {

    static BrokerProcess broker;
    static Rest rest;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("stats", Map.of("http.max.stats.streams", "3"));
        rest = new Rest(broker.baseUrl());
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void aPageGetsTheHistoryThenLiveFramesWhoseRatesFollowTheTraffic() {
        rest.createTopic("sse", 2);
        try (SseClient page = SseClient.open(broker.baseUrl() + "/api/stats/stream")) {
            assertThat(page.response().statusCode()).isEqualTo(200);
            assertThat(page.response().headers().firstValue("content-type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("text/event-stream"));
            SseClient.Event history = page.next(Duration.ofSeconds(5));
            assertThat(history.name()).isEqualTo("history");
            assertThat(history.data().getInteger("intervalMs")).isEqualTo(1000);
            assertThat(history.data().getJsonArray("samples")).isNotNull();

            // The broker's own summary goes round the event bus first, so the first frame or two may lack it.
            JsonObject frame = page.await(e -> e.name().equals("stats") && e.data().getJsonArray("brokers")
                    .getJsonObject(0).containsKey("stats"), Duration.ofSeconds(5)).data();
            assertThat(frame.getInteger("brokerId")).isZero();
            assertThat(frame.getInteger("controller")).isZero();
            assertThat(frame.getJsonObject("health").getBoolean("zookeeper")).isTrue();
            JsonObject self = frame.getJsonArray("brokers").getJsonObject(0);
            assertThat(self.getBoolean("alive")).isTrue();
            assertThat(self.getInteger("leaders")).isEqualTo(2);
            assertThat(self.getJsonObject("stats").fieldNames())
                    .as("the broker's own figures, as it publishes them to the cluster")
                    .contains("time", "rates", "replicas", "leaders", "underReplicated");
            JsonObject partitions = frame.getJsonObject("partitions");
            assertThat(List.of(partitions.getInteger("total"), partitions.getInteger("underReplicated"),
                    partitions.getInteger("offline"))).containsExactly(2, 0, 0);
            JsonObject topic = topic(frame, "sse");
            assertThat(topic.fieldNames()).as("a topic is summed up, without its partitions: the frame stays small")
                    .containsExactlyInAnyOrder("name", "replicationFactor", "partitionCount", "underReplicated",
                            "offline", "records", "sizeBytes");
            assertThat(List.of(topic.getInteger("partitionCount"), topic.getInteger("underReplicated"),
                    topic.getInteger("offline"), topic.getInteger("records"))).containsExactly(2, 0, 0, 0);
            assertThat(frame.getJsonArray("groups")).isEmpty();
            assertThat(frame.getJsonArray("problems")).isEmpty();

            JsonArray records = new JsonArray();
            for (int i = 0; i < 50; i++) {
                records.add(new JsonObject().put("key", "k" + i).put("value", "value-" + i));
            }
            assertThat(rest.post("/api/topics/sse/records", new JsonObject().put("records", records)).status())
                    .isEqualTo(200);
            JsonObject busy = page.await(e -> e.name().equals("stats") && e.data().getJsonObject("rates")
                    .getJsonObject("topics").containsKey("sse"), Duration.ofSeconds(5)).data();
            JsonObject rates = busy.getJsonObject("rates");
            assertThat(rates.getJsonObject("topics").getJsonObject("sse").getDouble("recordsIn")).isPositive();
            assertThat(rates.getJsonObject("total").getDouble("bytesIn")).isPositive();
            long stored = page.await(e -> e.name().equals("stats") && topic(e.data(), "sse").getLong("records") == 50,
                    Duration.ofSeconds(5)).data().getLong("time");
            assertThat(stored).isPositive();
        }
        // A page opened later draws the same traffic from the history the broker kept.
        try (SseClient later = SseClient.open(broker.baseUrl() + "/api/stats/stream")) {
            JsonArray samples = later.next(Duration.ofSeconds(5)).data().getJsonArray("samples");
            assertThat(samples.stream().map(s -> ((JsonObject) s).getJsonObject("topics")))
                    .anySatisfy(topics -> assertThat(topics.containsKey("sse")).isTrue());
        }
        assertThat(rest.get("/api/stats").json().getJsonArray("samples")).isNotEmpty();
        JsonObject cluster = rest.get("/api/cluster").json();
        assertThat(cluster.fieldNames()).contains("brokerId", "controller", "brokers", "partitions")
                .doesNotContain("topics", "groups");
        assertThat(cluster.getJsonObject("partitions").getInteger("total")).isEqualTo(2);
    }

    @Test
    void theReadOnlyStatsRoutesMayBeReadFromAnotherOrigin() throws Exception {
        for (String path : List.of("/api/cluster", "/api/brokers", "/api/stats", "/api/reassignments")) {
            assertThat(get(path).headers().firstValue("access-control-allow-origin")).as(path).hasValue("*");
        }
        assertThat(get("/api/topics").headers().firstValue("access-control-allow-origin")).isEmpty();
    }

    @Test
    void streamsOverTheLimitAreRefusedAndPagesThatLeaveFreeTheirPlace() throws Exception {
        try (SseClient one = SseClient.open(broker.baseUrl() + "/api/stats/stream");
             SseClient two = SseClient.open(broker.baseUrl() + "/api/stats/stream");
             SseClient three = SseClient.open(broker.baseUrl() + "/api/stats/stream")) {
            one.next(Duration.ofSeconds(5));
            two.next(Duration.ofSeconds(5));
            three.next(Duration.ofSeconds(5));
            HttpResponse<String> refused = get("/api/stats/stream");
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("code"))
                    .isEqualTo("BROKER_OVERLOADED");
            three.close();
            // The broker notices the page left on its next write, at most a second later.
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
                try (SseClient again = SseClient.open(broker.baseUrl() + "/api/stats/stream")) {
                    assertThat(again.response().statusCode()).isEqualTo(200);
                }
            });
        }
    }

    @Test
    void servesTheDashboardAndTheClientModuleWithFittingCaching() throws Exception {
        HttpResponse<String> index = get("/");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.headers().firstValue("content-type").orElse("")).startsWith("text/html");
        assertThat(index.headers().firstValue("cache-control")).hasValue("no-cache");
        assertThat(index.body()).contains("<div id=\"app\">");

        Matcher asset = Pattern.compile("/assets/[A-Za-z0-9._-]+\\.js").matcher(index.body());
        assertThat(asset.find()).as("index.html names its script").isTrue();
        HttpResponse<String> script = get(asset.group());
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.headers().firstValue("cache-control")).hasValue("public, max-age=31536000, immutable");

        HttpResponse<String> client = get("/millrace-client.js");
        assertThat(client.statusCode()).isEqualTo(200);
        assertThat(client.headers().firstValue("content-type").orElse("")).contains("javascript");
        assertThat(client.headers().firstValue("cache-control")).hasValue("no-cache");
        assertThat(client.body()).contains("MillraceClient = class", "export {");
        assertThat(get("/millrace-client.d.ts").statusCode()).isEqualTo(200);

        String lastModified = client.headers().firstValue("last-modified").orElseThrow();
        HttpResponse<String> again = HTTP.send(HttpRequest.newBuilder(URI.create(broker.baseUrl()
                + "/millrace-client.js")).header("if-modified-since", lastModified).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(again.statusCode()).isEqualTo(304);

        // The API, health and metrics are unchanged by the files served beside them.
        assertThat(get("/api/no-such-thing").statusCode()).isEqualTo(400);
        assertThat(get("/health").statusCode()).isEqualTo(200);
        assertThat(get("/metrics").body()).contains("millrace_");
        assertThat(get("/no-such-file.js").statusCode()).isEqualTo(404);
    }

    private static JsonObject topic(JsonObject frame, String name) {
        return frame.getJsonArray("topics").stream().map(JsonObject.class::cast)
                .filter(t -> t.getString("name").equals(name)).findFirst().orElseThrow();
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(broker.baseUrl() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
