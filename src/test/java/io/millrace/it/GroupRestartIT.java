package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.client.ClientConfig;
import io.millrace.client.ConsumerConfig;
import io.millrace.client.ConsumerRecord;
import io.millrace.client.GroupOptions;
import io.millrace.client.GroupRecord;
import io.millrace.client.MillraceClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Committed offsets are records of __consumer_offsets: they survive a SIGKILL and a clean restart of the broker. */
class GroupRestartIT {

    @Test
    void committedOffsetsSurviveSigkillAndCleanRestart() {
        try (BrokerProcess broker = BrokerProcess.start("group-restart", Map.of(
                "group.initial.rebalance.delay.ms", "0", "group.min.session.timeout.ms", "1000"))) {
            Rest rest = new Rest(broker.baseUrl());
            rest.createTopic("restart-orders", 2);
            JsonArray records = new JsonArray();
            for (int i = 0; i < 20; i++) {
                records.add(new JsonObject().put("value", "v" + i).put("partition", i % 2));
            }
            assertThat(rest.post("/api/topics/restart-orders/records", new JsonObject().put("records", records))
                    .status()).isEqualTo(200);

            // an SDK member commits partition 0 at 4 and partition 1 at 7 (acks=all on the offsets topic)
            try (MillraceClient client = client(broker)) {
                GroupOptions manual = GroupOptions.defaults().withAutoCommit(Duration.ZERO)
                        .withSessionTimeout(Duration.ofMillis(2_000), Duration.ofMillis(300));
                client.consumer(ConsumerConfig.defaults()).subscribe(List.of("restart-orders"), "survivor", manual)
                        .receiveAcknowledgeable()
                        .filter(r -> r.record().offset() == (r.record().partition() == 0 ? 3 : 6))
                        .take(2)
                        .concatMap(GroupRecord::commit)
                        .then().block(Duration.ofSeconds(30));
            }
            assertCommitted(rest, 4, 7);

            broker.kill();
            broker.restart();
            assertCommitted(rest, 4, 7);

            broker.stop();
            broker.restart();
            assertCommitted(rest, 4, 7);

            // and a new member starts exactly there
            try (MillraceClient client = client(broker)) {
                List<ConsumerRecord> first = client.consumer(ConsumerConfig.defaults())
                        .subscribe(List.of("restart-orders"), "survivor")
                        .receive().take(6 + 3).collectList().block(Duration.ofSeconds(30));
                assertThat(first.stream().filter(r -> r.partition() == 0).mapToLong(ConsumerRecord::offset).min())
                        .hasValue(4);
                assertThat(first.stream().filter(r -> r.partition() == 1).mapToLong(ConsumerRecord::offset).min())
                        .hasValue(7);
            }
        }
    }

    private static MillraceClient client(BrokerProcess broker) {
        return MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + broker.tcpPort()).withClientId("restart"));
    }

    private static void assertCommitted(Rest rest, long p0, long p1) {
        await().atMost(Duration.ofSeconds(30)).until(() -> rest.get("/api/groups/survivor").status() == 200);
        JsonArray partitions = rest.get("/api/groups/survivor").json().getJsonArray("partitions");
        assertThat(partitions.getJsonObject(0).getLong("committed")).isEqualTo(p0);
        assertThat(partitions.getJsonObject(1).getLong("committed")).isEqualTo(p1);
        assertThat(partitions.getJsonObject(0).getLong("lag")).isEqualTo(10 - p0);
        assertThat(partitions.getJsonObject(1).getLong("lag")).isEqualTo(10 - p1);
    }
}
