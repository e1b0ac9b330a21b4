package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.storage.Tmpfs;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker whose data directory is on a small tmpfs that fills up: produces are refused with a retriable
 * STORAGE_ERROR, reads and {@code /health} (200, "degraded", with the reason) go on, a topic created meanwhile comes
 * up by itself once space returns, writes resume without a restart, and a broker starts on a full disk.
 */
class StorageFaultIT {

    /** Probes and retries fast, so that recovery is seen within seconds. */
    private static final Map<String, String> FAST_RECOVERY = Map.of("storage.check.interval.ms", "200",
            "partition.open.retry.backoff.ms", "200", "partition.open.retry.backoff.max.ms", "1000");
    private static final Duration DEADLINE = Duration.ofSeconds(20);

    @TempDir
    Path tempDir;

    private Tmpfs disk;
    private BrokerProcess broker;
    private ZooKeeperProcess zookeeper;

    @BeforeEach
    void mountDisk() {
        disk = Tmpfs.mount(tempDir, "64m");
    }

    @AfterEach
    void cleanUp() {
        try {
            if (broker != null) {
                broker.close();
            }
            if (zookeeper != null) {
                zookeeper.close();
            }
        } finally {
            if (disk != null) {
                disk.close();
            }
        }
    }

    @Test
    void aFullDataDirectoryRefusesWritesKeepsReadsAndRecoversByItself() {
        // ZooKeeper elsewhere, as in a real deployment: this test is about the broker's own directory.
        zookeeper = ZooKeeperProcess.start("storage-zookeeper");
        Map<String, String> config = new HashMap<>(FAST_RECOVERY);
        config.put("zookeeper.connect", zookeeper.connectString());
        Rest rest = startWithTopic("storage-full", config, "before", "one");

        disk.fill();

        await().atMost(DEADLINE).untilAsserted(() -> {
            Rest.Response refused = produce(rest, "before", "refused");
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.errorCode()).isEqualTo("STORAGE_ERROR");
            assertThat(refused.json().getJsonObject("error").getBoolean("retriable")).isTrue();
        });
        Rest.Response health = rest.get("/health");
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.json().getString("status")).isEqualTo("degraded");
        JsonObject storage = health.json().getJsonObject("storage");
        assertThat(storage.getString("status")).isEqualTo("full");
        assertThat(storage.getString("reason")).isNotBlank();
        assertThat(storage.getJsonArray("partitions").getList()).contains("before-0");
        assertThat(rest.get("/metrics").body()).containsPattern("millrace_storage_degraded\\{[^}]*} 1\\.0")
                .containsPattern("millrace_storage_errors_total\\{[^}]*} [1-9]");
        assertThat(rest.get("/api/topics/before/partitions/0/records?offset=0").json().getJsonArray("records")
                .getJsonObject(0).getString("value")).isEqualTo("one");

        rest.createTopic("during", 1);
        // Down once its first open has failed (until then it is listed as opening).
        await().atMost(DEADLINE).untilAsserted(() -> assertThat(rest.get("/health").json()
                .getJsonArray("partitionsDown").getList()).contains("during-0"));
        assertThat(produce(rest, "during", "refused").status()).isNotEqualTo(200);

        disk.free();

        await().atMost(DEADLINE).untilAsserted(() -> {
            assertThat(produce(rest, "before", "two").status()).isEqualTo(200);
            assertThat(produce(rest, "during", "first").status()).isEqualTo(200);
        });
        await().atMost(DEADLINE).untilAsserted(() -> {
            Rest.Response healthy = rest.get("/health");
            assertThat(healthy.status()).isEqualTo(200);
            assertThat(healthy.json().getString("status")).isEqualTo("ready");
            assertThat(healthy.json().getJsonObject("storage").getString("status")).isEqualTo("ok");
        });
        assertThat(rest.get("/metrics").body()).containsPattern("millrace_storage_degraded\\{[^}]*} 0\\.0");
        assertThat(rest.get("/api/topics/during/partitions/0/records?offset=0").json().getJsonArray("records")
                .getJsonObject(0).getString("value")).isEqualTo("first");
    }

    @Test
    void aBrokerStartsOnAFullDiskReadOnlyAndTakesWritesOnceSpaceReturns() {
        Rest rest = startWithTopic("storage-start-full", FAST_RECOVERY, "kept", "before the restart");
        broker.stop();

        disk.fill();
        broker.restart();

        Rest.Response health = rest.get("/health");
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.json().getString("status")).isEqualTo("degraded");
        assertThat(rest.get("/api/topics/kept/partitions/0/records?offset=0").json().getJsonArray("records")
                .getJsonObject(0).getString("value")).isEqualTo("before the restart");
        assertThat(produce(rest, "kept", "refused").errorCode()).isEqualTo("STORAGE_ERROR");

        disk.free();

        await().atMost(DEADLINE).untilAsserted(() ->
                assertThat(produce(rest, "kept", "after").status()).isEqualTo(200));
        assertThat(rest.get("/health").json().getString("status")).isEqualTo("ready");
    }

    /** Starts a broker on the tmpfs and writes {@code value} to a new one-partition {@code topic}. */
    private Rest startWithTopic(String name, Map<String, String> config, String topic, String value) {
        broker = BrokerProcess.create(name, disk.dir().resolve("data"), config);
        broker.restart();
        Rest rest = new Rest(broker.baseUrl());
        rest.createTopic(topic, 1);
        assertThat(produce(rest, topic, value).status()).isEqualTo(200);
        return rest;
    }

    private static Rest.Response produce(Rest rest, String topic, String value) {
        return rest.post("/api/topics/" + topic + "/records", new JsonObject().put("value", value));
    }
}
