package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.group.OffsetsTopic;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, "Done when" 1 and 5: any broker serves any client. Three real broker processes against one ZooKeeper; a
 * WebSocket client on a broker that leads none of a topic's partitions produces and subscribes through it, and keeps
 * its subscription, on the same socket, through the SIGKILL of a leader; REST against each broker returns the same
 * records. A subscriber on a follower reads its broker's in-sync replica, so it is not held up by a frozen leader.
 */
class AnyBrokerIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    static ClusterHarness cluster;
    static Replicas replicas;

    @BeforeAll
    static void start() {
        cluster = ClusterHarness.start(3);
        replicas = new Replicas(cluster);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aWebSocketClientOnABrokerLeadingNothingKeepsReadingEveryAcknowledgedRecordThroughALeaderFailure() {
        String topic = "through-b";
        // Two partitions of three replicas: their leaders are two different brokers, so one broker leads neither.
        replicas.createTopic(topic, 2, 3, Map.of());
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        int leader0 = replicas.leader(topic, 0);
        int leader1 = replicas.leader(topic, 1);
        int front = cluster.ids().stream().filter(id -> id != leader0 && id != leader1).findFirst().orElseThrow();
        assertThat(leader0).isNotEqualTo(leader1);

        Map<Integer, TreeMap<Long, String>> acknowledged = new ConcurrentHashMap<>();
        try (WsClient producer = WsClient.connect(cluster.broker(front).webSocketUri());
             WsClient subscriber = WsClient.connect(cluster.broker(front).webSocketUri())) {
            JsonObject subscribed = subscriber.call(new JsonObject().put("op", "subscribe").put("topic", topic)
                    .put("from", "earliest").put("credits", 10_000));
            assertThat(subscribed.getString("op")).as("%s", subscribed).isEqualTo("result");
            Map<Integer, List<Long>> delivered = new LinkedHashMap<>();
            Map<Integer, List<String>> values = new LinkedHashMap<>();

            int n = 0;
            for (; n < 100; n++) {
                produce(producer, topic, n, acknowledged);
            }
            cluster.kill(leader0);
            long deadline = System.nanoTime() + WAIT.toNanos();
            // Records produced meanwhile are acknowledged once partition 0 has a new leader. A refused one is produced
            // again: if the refusal was a timeout it may be in the log twice, once unacknowledged, which is allowed.
            for (; n < 200; n++) {
                while (!produce(producer, topic, n, acknowledged)) {
                    assertThat(System.nanoTime() - deadline).as("record %d acknowledged within %s", n, WAIT)
                            .isNegative();
                }
            }

            await().alias("every acknowledged record delivered").atMost(WAIT).until(() -> {
                for (JsonObject push : subscriber.drain()) {
                    if (!"records".equals(push.getString("op"))) {
                        throw new AssertionError("The subscription got " + push);
                    }
                    int partition = push.getInteger("partition");
                    for (Object o : push.getJsonArray("records")) {
                        JsonObject r = (JsonObject) o;
                        delivered.computeIfAbsent(partition, p -> new ArrayList<>()).add(r.getLong("offset"));
                        values.computeIfAbsent(partition, p -> new ArrayList<>()).add(r.getString("value"));
                    }
                }
                return acknowledged.entrySet().stream().allMatch(e -> delivered.getOrDefault(e.getKey(), List.of())
                        .containsAll(e.getValue().keySet()));
            });
            assertThat(subscriber.closed()).as("the subscriber's socket stayed open").isNotDone();
            for (Map.Entry<Integer, List<Long>> e : delivered.entrySet()) {
                List<Long> offsets = e.getValue();
                assertThat(offsets).as("partition %d: each offset once, in order", e.getKey()).isSorted()
                        .doesNotHaveDuplicates();
                TreeMap<Long, String> expected = acknowledged.get(e.getKey());
                for (int i = 0; i < offsets.size(); i++) {
                    String ackedValue = expected.get(offsets.get(i));
                    if (ackedValue != null) {
                        assertThat(values.get(e.getKey()).get(i)).as("value at %d-%d", e.getKey(), offsets.get(i))
                                .isEqualTo(ackedValue);
                    }
                }
            }
            assertThat(acknowledged.values().stream().mapToInt(Map::size).sum()).isEqualTo(200);
        }

        // Done when 5: the same records through REST on every live broker, whoever leads
        for (int id : cluster.runningIds()) {
            Rest rest = new Rest(cluster.baseUrl(id));
            for (int partition = 0; partition < 2; partition++) {
                Rest.Response read = rest.get("/api/topics/" + topic + "/partitions/" + partition
                        + "/records?offset=0&maxRecords=500");
                assertThat(read.status()).as("broker %d, partition %d: %s", id, partition, read.body()).isEqualTo(200);
                Map<Long, String> got = new TreeMap<>();
                for (Object o : read.json().getJsonArray("records")) {
                    JsonObject r = (JsonObject) o;
                    got.put(r.getLong("offset"), r.getString("value"));
                }
                assertThat(got).as("broker %d, partition %d", id, partition)
                        .containsAllEntriesOf(acknowledged.get(partition));
            }
        }
    }

    @Test
    void aWebSocketGroupMemberJoinsAndCommitsThroughABrokerThatDoesNotCoordinateItsGroup() {
        List<Integer> running = cluster.runningIds();
        int front = running.get(0);
        Rest rest = new Rest(cluster.baseUrl(front));
        String topic = "grouped";
        replicas.createTopic(topic, 2, 2, Map.of());
        // the offsets topic is created on first use; describing it is such a use
        JsonObject offsetsTopic = await().atMost(WAIT).until(() -> {
            Rest.Response r = rest.get("/api/topics/" + OffsetsTopic.NAME);
            return r.status() == 200 ? r.json() : null;
        }, d -> d != null && d.getJsonArray("partitions").stream()
                .allMatch(p -> ((JsonObject) p).getInteger("leader", -1) >= 0));
        int offsetsPartitions = offsetsTopic.getJsonArray("partitions").size();
        String group = null;
        int coordinator = -1;
        for (int i = 0; group == null; i++) {
            int leader = Replicas.partitionOf(offsetsTopic, OffsetsTopic.partitionFor("g-" + i, offsetsPartitions))
                    .getInteger("leader");
            if (leader != front && running.contains(leader)) {
                group = "g-" + i;
                coordinator = leader;
            }
        }

        try (WsClient member = WsClient.connect(cluster.broker(front).webSocketUri())) {
            JsonObject joined = member.call(new JsonObject().put("op", "joinGroup").put("group", group)
                    .put("topics", new JsonArray().add(topic)).put("autoCommit", false).put("reset", "earliest")
                    .put("credits", 1_000).put("sessionTimeoutMs", 10_000).put("rebalanceTimeoutMs", 10_000));
            assertThat(joined.getString("op")).as("%s", joined).isEqualTo("result");
            assertThat(joined.getJsonArray("assignment").getJsonObject(0).getJsonArray("partitions")).hasSize(2);

            JsonArray records = new JsonArray();
            for (int n = 0; n < 10; n++) {
                records.add(new JsonObject().put("partition", n % 2).put("value", "member-" + n));
            }
            assertThat(rest.post("/api/topics/" + topic + "/records", new JsonObject().put("records", records))
                    .status()).isEqualTo(200);
            List<String> read = new ArrayList<>();
            while (read.size() < 10) {
                JsonObject push = member.await(m -> "records".equals(m.getString("op")), WAIT);
                push.getJsonArray("records").forEach(r -> read.add(((JsonObject) r).getString("value")));
            }
            assertThat(read).containsExactlyInAnyOrderElementsOf(records.stream()
                    .map(r -> ((JsonObject) r).getString("value")).toList());

            JsonObject committed = member.call(new JsonObject().put("op", "commit").put("group", group));
            assertThat(committed.getString("op")).as("%s", committed).isEqualTo("result");
        }

        // every broker knows the group and its offsets, whichever coordinates it
        for (int id : running) {
            Rest other = new Rest(cluster.baseUrl(id));
            assertThat(other.get("/api/groups").body()).as("groups listed by broker %d", id).contains(group);
            Rest.Response described = other.get("/api/groups/" + group);
            assertThat(described.status()).as("broker %d: %s", id, described.body()).isEqualTo(200);
            assertThat(described.body()).as("described by broker %d (coordinator %d)", id, coordinator)
                    .contains("\"committed\":5");
        }
    }

    @Test
    void aSubscriberOnAFollowerReadsWhatIsCommittedFromItsReplicaWhileTheLeaderIsFrozen() {
        String topic = "read-on-follower";
        List<Integer> running = cluster.runningIds();
        replicas.createTopic(topic, 1, running.size(), Map.of());
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        int leader = replicas.leader(topic, 0);
        int epoch = replicas.leaderEpoch(topic, 0);
        int follower = running.stream().filter(id -> id != leader).findFirst().orElseThrow();
        Map<Integer, TreeMap<Long, String>> acknowledged = new ConcurrentHashMap<>();
        List<String> values = new ArrayList<>();
        try (WsClient producer = WsClient.connect(cluster.broker(leader).webSocketUri());
             WsClient subscriber = WsClient.connect(cluster.broker(follower).webSocketUri())) {
            // One credit: the subscription starts (its start offset comes from the leader) and then stops fetching.
            JsonObject subscribed = subscriber.call(new JsonObject().put("op", "subscribe").put("topic", topic)
                    .put("from", "earliest").put("credits", 1));
            assertThat(subscribed.getString("op")).as("%s", subscribed).isEqualTo("result");
            for (int n = 0; n < 50; n += 2) {
                assertThat(produce(producer, topic, n, acknowledged)).as("record %d acknowledged", n).isTrue();
            }
            subscriber.await(m -> "records".equals(m.getString("op")), WAIT).getJsonArray("records")
                    .forEach(r -> values.add(((JsonObject) r).getString("value")));
            await().alias("the follower has heard the final high watermark").atMost(WAIT)
                    .until(() -> replicas.describe(follower, topic).map(d -> Replicas.partitionOf(d, 0)
                            .getLong("highWatermark")).orElse(-1L) == 25);

            // Frozen, the leader keeps its ZooKeeper session for zookeeper.session.timeout.ms: it stays the leader.
            replicas.freeze(leader);
            try {
                subscriber.send(new JsonObject().put("op", "credit").put("subscription",
                        subscribed.getString("subscription")).put("credits", 1_000));
                while (values.size() < 25) {
                    JsonObject push = subscriber.await(m -> "records".equals(m.getString("op")), WAIT);
                    push.getJsonArray("records").forEach(r -> values.add(((JsonObject) r).getString("value")));
                }
                assertThat(replicas.describe(follower, topic).map(d -> Replicas.partitionOf(d, 0)
                        .getInteger("leaderEpoch")).orElseThrow())
                        .as("read while the frozen leader still led: not through a new leader").isEqualTo(epoch);
            } finally {
                replicas.thaw(leader);
            }
        }
        assertThat(values).containsExactlyElementsOf(acknowledged.get(0).values());
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
    }

    /** Produces record {@code n} to partition {@code n % 2} through the socket; false when it was refused. */
    private static boolean produce(WsClient producer, String topic, int n, Map<Integer, TreeMap<Long, String>> acked) {
        String value = "record-" + n;
        JsonObject answer = producer.call(new JsonObject().put("op", "produce").put("topic", topic).put("acks", "all")
                .put("records", new JsonArray().add(new JsonObject().put("partition", n % 2).put("value", value))));
        if (!"result".equals(answer.getString("op"))) {
            System.out.printf("AnyBrokerIT: record %d refused: %s%n", n, answer.encode());
            return false;
        }
        JsonObject at = answer.getJsonArray("offsets").getJsonObject(0);
        acked.computeIfAbsent(at.getInteger("partition"), p -> new TreeMap<>()).put(at.getLong("offset"), value);
        return true;
    }
}
