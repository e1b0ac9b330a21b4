package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A browser that grants few credits while producers write far more than the broker's heap: it receives exactly its
 * credits, and the broker (capped at a small heap) neither buffers the backlog nor dies.
 */
class SlowConsumerIT {

    private static final int MIB_TO_WRITE = 160;

    @Test
    void aSlowSubscriberGetsExactlyItsCreditsAndTheBrokerStaysBounded() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start("slow", Map.of(), "-Xmx96m");
             WsClient slow = WsClient.connect(broker.webSocketUri())) {
            Rest rest = new Rest(broker.baseUrl());
            rest.createTopic("firehose", 1);
            JsonObject sub = slow.call(new JsonObject().put("op", "subscribe").put("topic", "firehose")
                    .put("from", "earliest").put("credits", 10));
            assertThat(sub.getString("op")).isEqualTo("result");

            String value = "x".repeat(1024);
            JsonArray records = new JsonArray();
            for (int i = 0; i < 512; i++) {
                records.add(new JsonObject().put("value", value));
            }
            String body = new JsonObject().put("records", records).encode();
            long peakRss = 0;
            for (int i = 0; i < MIB_TO_WRITE * 2; i++) {
                assertThat(rest.post("/api/topics/firehose/records", body).status()).isEqualTo(200);
                if (i % 20 == 0) {
                    peakRss = Math.max(peakRss, broker.residentBytes());
                }
            }
            assertThat(WebSocketIT.collect(slow, 10)).hasSize(10);
            Thread.sleep(1000);
            assertThat(slow.pending()).noneMatch(m -> "records".equals(m.getString("op")));
            assertThat(broker.isAlive()).isTrue();
            assertThat(broker.healthStatus()).isEqualTo(200);
            System.out.printf("wrote %d MiB; broker peak RSS %d MiB%n", MIB_TO_WRITE, peakRss >> 20);
            assertThat(peakRss).isLessThan(400L << 20);

            slow.send(new JsonObject().put("op", "credit").put("subscription", sub.getString("subscription"))
                    .put("credits", 5));
            assertThat(WebSocketIT.collect(slow, 5)).hasSize(5);
            assertThat(slow.closed()).isNotDone();
        }
    }
}
