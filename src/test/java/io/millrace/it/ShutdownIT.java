package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM answers what waits on the broker before the connections close: a REST long-poll gets its answer, a
 * WebSocket request its error and the socket a 1001 close; and the broker exits promptly, not after the waits.
 */
class ShutdownIT {

    private static final int LONG_POLL_MS = 30_000;

    @Test
    void waitingRequestsAreAnsweredBeforeTheBrokerExits() throws Exception {
        // The first rebalance of an empty group waits this long for more members: a joinGroup that cannot finish.
        try (BrokerProcess broker = BrokerProcess.start("shutdown", Map.of("group.initial.rebalance.delay.ms",
                "60000"))) {
            Rest rest = new Rest(broker.baseUrl());
            rest.createTopic("quiet", 1);
            CompletableFuture<HttpResponse<String>> longPoll = HttpClient.newHttpClient().sendAsync(
                    HttpRequest.newBuilder(URI.create(broker.baseUrl()
                            + "/api/topics/quiet/partitions/0/records?offset=latest&maxWaitMs=" + LONG_POLL_MS))
                            .build(), HttpResponse.BodyHandlers.ofString());
            try (WsClient member = WsClient.connect(broker.webSocketUri())) {
                int join = member.send(new JsonObject().put("op", "joinGroup").put("group", "waits")
                        .put("topics", new JsonArray().add("quiet")));
                await().atMost(Duration.ofSeconds(30)).until(() -> rest.get("/api/groups/waits").status() == 200);
                assertThat(longPoll).isNotDone();

                long stopping = System.nanoTime();
                broker.stop();
                Duration stopTook = Duration.ofNanos(System.nanoTime() - stopping);

                HttpResponse<String> answer = longPoll.get(5, TimeUnit.SECONDS);
                JsonObject body = new JsonObject(answer.body());
                if (answer.statusCode() == 200) {
                    assertThat(body.getJsonArray("records")).isEmpty();
                } else {
                    assertThat(answer.statusCode()).isEqualTo(503);
                    assertThat(body.getJsonObject("error").getString("code")).isEqualTo("NOT_LEADER");
                    assertThat(body.getJsonObject("error").getString("message")).contains("shutting down");
                }
                JsonObject joinAnswer = member.await(m -> Integer.valueOf(join).equals(m.getValue("id")),
                        Duration.ofSeconds(5));
                assertThat(joinAnswer.getString("op")).isEqualTo("error");
                assertThat(joinAnswer.getJsonObject("error").getString("code")).isEqualTo("REQUEST_TIMED_OUT");
                assertThat(joinAnswer.getJsonObject("error").getString("message")).contains("shutting down");
                assertThat(member.closed().get(5, TimeUnit.SECONDS)).isEqualTo(1001);
                assertThat(stopTook).isLessThan(Duration.ofMillis(LONG_POLL_MS / 2));
            }
        }
    }
}
