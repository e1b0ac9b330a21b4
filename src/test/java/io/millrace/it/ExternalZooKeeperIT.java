package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A second broker started with {@code --zookeeper} joins the first one's ZooKeeper instead of embedding its own:
 * both see each other and share topic metadata.
 */
class ExternalZooKeeperIT {

    @Test
    void aBrokerPointedAtAnExternalEnsembleJoinsTheCluster() {
        try (BrokerProcess first = BrokerProcess.start("zk-first", Map.of());
             BrokerProcess second = BrokerProcess.start("zk-second", Map.of(
                     "zookeeper.connect", "127.0.0.1:" + first.zookeeperPort(), "broker.id", "1"))) {
            Rest rest1 = new Rest(first.baseUrl());
            Rest rest2 = new Rest(second.baseUrl());
            JsonArray brokers = rest2.get("/api/brokers").array();
            assertThat(brokers).hasSize(2);
            assertThat(brokers.stream().map(b -> ((JsonObject) b).getBoolean("alive"))).containsOnly(true);
            assertThat(brokers.stream().filter(b -> ((JsonObject) b).getBoolean("controller"))).hasSize(1);

            rest1.createTopic("shared-metadata", 1);
            Awaitility.await().until(() -> rest2.get("/api/topics/shared-metadata").status() == 200);

            second.stop();
            Awaitility.await().until(() -> rest1.get("/api/brokers").array().stream()
                    .anyMatch(b -> ((JsonObject) b).getInteger("id") == 1 && !((JsonObject) b).getBoolean("alive")));
        }
    }

    @Test
    void autoCreateMakesATopicOnFirstProduceWhenEnabled() {
        try (BrokerProcess broker = BrokerProcess.start("auto-create", Map.of("auto.create.topics.enable", "true",
                "num.partitions", "2"))) {
            Rest rest = new Rest(broker.baseUrl());
            assertThat(rest.post("/api/topics/born-on-produce/records", "{\"value\":\"first\"}").status())
                    .isEqualTo(200);
            assertThat(rest.get("/api/topics/born-on-produce").json().getJsonArray("partitions")).hasSize(2);
        }
    }
}
