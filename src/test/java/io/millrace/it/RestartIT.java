package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Durability across process death: SIGKILL loses no acknowledged record, SIGTERM shuts down cleanly. */
class RestartIT {

    @Test
    void sigkillLosesNoAcknowledgedRecord() {
        try (BrokerProcess broker = BrokerProcess.start("restart-kill", Map.of("log.flush.messages", "1"))) {
            Rest rest = new Rest(broker.baseUrl());
            rest.createTopic("durable", 3);
            rest.post("/api/topics", "{\"name\":\"configured\",\"partitions\":1,\"config\":{\"retention.ms\":\"3600000\"}}");
            List<String> acknowledged = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                String acks = i % 2 == 0 ? "1" : "all";
                JsonArray records = new JsonArray();
                for (int j = 0; j < 5; j++) {
                    records.add(new JsonObject().put("key", "k" + j).put("value", "v" + i + "-" + j));
                }
                Rest.Response r = rest.post("/api/topics/durable/records", new JsonObject().put("acks", acks)
                        .put("records", records));
                assertThat(r.status()).isEqualTo(200);
                records.forEach(rec -> acknowledged.add(((JsonObject) rec).getString("value")));
            }
            broker.kill();

            broker.restart();
            assertThat(rest.get("/api/topics/configured").json().getJsonObject("config").getString("retention.ms"))
                    .isEqualTo("3600000");
            List<String> recovered = new ArrayList<>();
            JsonObject topic = rest.get("/api/topics/durable").json();
            assertThat(topic.getJsonArray("partitions")).hasSize(3);
            for (int p = 0; p < 3; p++) {
                recovered.addAll(readPartition(rest, "durable", p));
            }
            assertThat(recovered).containsExactlyInAnyOrderElementsOf(acknowledged);

            Rest.Response after = rest.post("/api/topics/durable/records", "{\"key\":\"k0\",\"value\":\"after\"}");
            assertThat(after.status()).isEqualTo(200);
        }
    }

    @Test
    void sigtermFlushesAndMarksEveryPartitionClean() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start("restart-term", Map.of())) {
            Rest rest = new Rest(broker.baseUrl());
            rest.createTopic("clean", 2);
            rest.post("/api/topics/clean/records", "{\"records\":[{\"value\":\"a\"},{\"value\":\"b\"}]}");
            broker.stop();
            assertThat(broker.exitValue()).isIn(0, 143);
            List<Path> partitions;
            try (Stream<Path> dirs = Files.list(broker.dataDir().resolve("logs"))) {
                partitions = dirs.filter(dir -> !dir.getFileName().toString().startsWith("__consumer_offsets-"))
                        .toList();
            }
            assertThat(partitions).hasSize(2);
            assertThat(partitions).allMatch(dir -> Files.exists(dir.resolve("clean-shutdown")));
            try (Stream<Path> dirs = Files.list(broker.dataDir().resolve("logs"))) {
                // the offsets topic's partitions close cleanly too
                assertThat(dirs.toList()).allMatch(dir -> Files.exists(dir.resolve("clean-shutdown")));
            }
            assertThat(Files.readString(broker.logFile())).contains("stopped");

            broker.restart();
            assertThat(Files.readString(broker.logFile())).doesNotContain("unclean");
            assertThat(readPartition(rest, "clean", 0).size() + readPartition(rest, "clean", 1).size()).isEqualTo(2);
        }
    }

    static List<String> readPartition(Rest rest, String topic, int partition) {
        List<String> values = new ArrayList<>();
        long offset = 0;
        while (true) {
            JsonObject r = rest.get("/api/topics/" + topic + "/partitions/" + partition + "/records?offset=" + offset
                    + "&maxRecords=1000").json();
            JsonArray records = r.getJsonArray("records");
            records.forEach(o -> values.add(((JsonObject) o).getString("value")));
            offset = r.getLong("nextOffset");
            if (offset >= r.getLong("highWatermark")) {
                return values;
            }
        }
    }
}
