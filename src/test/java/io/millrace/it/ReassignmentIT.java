package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.client.Admin;
import io.millrace.client.ClientConfig;
import io.millrace.client.ConsumerConfig;
import io.millrace.client.GroupOptions;
import io.millrace.client.MillraceClient;
import io.millrace.client.Producer;
import io.millrace.client.ProducerConfig;
import io.millrace.client.ProducerRecord;
import io.millrace.client.Seek;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.AlterReassignmentsResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Issue 13, "Done when" 4: the cluster grows online. Three brokers hold a replicated topic that two idempotent acks=all
 * producers write and a consumer group reads; a fourth broker starts, and half the partitions move onto it through
 * the SDK admin (each partition's leader replaced by the new broker, which is put first: every step of a move runs,
 * adding, catching up, moving leadership, dropping). The producers see no error the SDK does not retry by itself,
 * nothing acknowledged is lost, the group reads every record, and afterwards the fourth broker leads the partitions
 * moved to it while the replicas dropped are gone from disk. Then the throttle: a move of a few MiB onto the fourth
 * broker, started with {@code replication.throttled.rate}, takes at least as long as that rate allows, and survives
 * the controller's death mid-move; and a cancel takes a move back.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReassignmentIT {

    private static final int PARTITIONS = 8;
    /** Records acknowledged before the cluster grows; the producers then send until the moves are done. */
    private static final int BEFORE_GROWTH = 30_000;
    /**
     * Each producer's pace: together at most about 450 KB/s even at one record a batch, half of it into the moved
     * partitions, under the new broker's {@link #THROTTLE}, so its copies catch up while the writes go on; and the
     * records the test holds in memory stay bounded however long the moves take on a slow machine (unpaced, a CI run
     * wrote until the test's heap ran out).
     */
    private static final int RECORDS_PER_SECOND = 2_500;
    private static final int KEYS = 97;
    /** The fourth broker's replication.throttled.rate: bytes/s its new replicas may copy. */
    private static final int THROTTLE = 1024 * 1024;

    static ClusterHarness cluster;
    static Replicas replicas;
    static int newBroker;

    @BeforeAll
    static void start() {
        cluster = ClusterHarness.start(3, Map.of("group.initial.rebalance.delay.ms", "0",
                "group.min.session.timeout.ms", "1000"));
        replicas = new Replicas(cluster);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void aFourthBrokerTakesHalfThePartitionsWhileProducersAndAGroupRun() throws Exception {
        String topic = "grow";
        replicas.createTopic(topic, PARTITIONS, 2, Map.of());
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        List<TopicPartition> all = IntStream.range(0, PARTITIONS).mapToObj(p -> new TopicPartition(topic, p))
                .toList();

        Oracle oracle = new Oracle();
        ReadLog assigned = new ReadLog();
        ReadLog grouped = new ReadLog();
        try (MillraceClient readers = client("readers"); MillraceClient first = client("producer-1");
             MillraceClient second = client("producer-2"); MillraceClient admin = client("admin")) {
            Disposable assignedReading = readers.consumer(ConsumerConfig.defaults()).assign(all, Seek.earliest())
                    .receive().subscribe(assigned::add, assigned::failed, assigned::completed);
            Disposable groupReading = readers.consumer(ConsumerConfig.defaults())
                    .subscribe(List.of(topic), topic + "-group", GroupOptions.defaults()
                            .withSessionTimeout(Duration.ofSeconds(3), Duration.ofMillis(300)))
                    .receive().subscribe(grouped::add, grouped::failed, grouped::completed);

            SendLoop one = new SendLoop(first, topic, "a", Integer.MAX_VALUE, KEYS, oracle).paced(RECORDS_PER_SECOND);
            SendLoop two = new SendLoop(second, topic, "b", Integer.MAX_VALUE, KEYS, oracle).paced(RECORDS_PER_SECOND);
            one.start();
            two.start();
            await().alias(BEFORE_GROWTH + " records acknowledged").atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> oracle.acknowledgedCount() >= BEFORE_GROWTH || one.failed() || two.failed());

            // The cluster grows while the producers write.
            newBroker = cluster.addBroker(Map.of("replication.throttled.rate", Integer.toString(THROTTLE)));
            int acknowledgedAtGrowth = oracle.acknowledgedCount();

            // Half the partitions move onto it: the new broker replaces each one's leader and comes first.
            JsonObject before = replicas.describe(topic);
            Map<TopicPartition, List<Integer>> plan = new LinkedHashMap<>();
            Map<TopicPartition, Integer> dropped = new LinkedHashMap<>();
            for (int p = 0; p < PARTITIONS; p += 2) {
                JsonObject state = Replicas.partitionOf(before, p);
                int leader = state.getInteger("leader");
                List<Integer> target = new ArrayList<>(List.of(newBroker));
                state.getJsonArray("replicas").stream().map(o -> ((Number) o).intValue()).filter(b -> b != leader)
                        .forEach(target::add);
                plan.put(new TopicPartition(topic, p), target);
                dropped.put(new TopicPartition(topic, p), leader);
            }
            long moveStarted = System.nanoTime();
            List<AlterReassignmentsResponse.Started> started = admin.admin().reassignPartitions(plan)
                    .block(Duration.ofSeconds(30));
            assertThat(started).hasSize(PARTITIONS / 2);
            assertThat(admin.admin().listReassignments().block(Duration.ofSeconds(30)))
                    .as("moves in progress right after the start").isNotEmpty();

            Admin sdk = admin.admin();
            await().alias("every reassignment done").atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> sdk.listReassignments().block(Duration.ofSeconds(10)).isEmpty());
            assertThat(one.sending() && two.sending()).as("the moves ran while the producers were still sending")
                    .isTrue();
            System.out.printf("%s: %d partitions moved onto broker %d in %d ms, %d records acknowledged meanwhile%n",
                    getClass().getSimpleName(), plan.size(), newBroker,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - moveStarted),
                    oracle.acknowledgedCount() - acknowledgedAtGrowth);

            one.stop();
            two.stop();
            one.join(Duration.ofMinutes(3));
            two.join(Duration.ofMinutes(3));
            assertThat(one.failures()).as("sends that failed after the SDK's own retries (producer a)").isEmpty();
            assertThat(two.failures()).as("sends that failed after the SDK's own retries (producer b)").isEmpty();
            assertThat(oracle.acknowledgedCount()).isEqualTo(one.sent() + two.sent());

            // Every broker agrees on the outcome: the moved partitions on their target, led by the new broker.
            await().alias("every broker sees the moved partitions on their targets, led by broker " + newBroker)
                    .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> cluster.runningIds().stream().allMatch(id -> replicas.describe(id, topic)
                            .map(d -> movedAsPlanned(d, plan)).orElse(false)));
            JsonObject after = replicas.describe(topic);
            long led = after.getJsonArray("partitions").stream().map(JsonObject.class::cast)
                    .filter(p -> p.getInteger("leader") == newBroker).count();
            assertThat(led).as("partitions the new broker leads").isGreaterThanOrEqualTo(PARTITIONS / 4);
            replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
            // The replicas dropped stopped and deleted their logs.
            dropped.forEach((tp, broker) -> await().alias(tp + " deleted from broker " + broker)
                    .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> !Files.exists(partitionDir(broker, tp))));
            assertThat(Files.isDirectory(partitionDir(newBroker, new TopicPartition(topic, 0)))).isTrue();

            // The reader that ran through the moves: every acknowledged record exactly once, in order.
            assigned.assertReadEvery(oracle, Duration.ofSeconds(90), "the assigned reader",
                    () -> replicas.describe(topic).encode());
            oracle.assertEveryAcknowledgedRecordReadOnce(assigned.snapshot());
            // The group: every acknowledged record, none at a wrong offset.
            grouped.assertReadEvery(oracle, Duration.ofSeconds(90), "the group", () -> replicas.describe(topic).encode());
            assignedReading.dispose();
            groupReading.dispose();

            // And a fresh reader, which the new broker serves from the copy it made: each record exactly once.
            ReadLog fresh = new ReadLog();
            Disposable reading = readers.consumer(ConsumerConfig.defaults()).assign(all, Seek.earliest()).receive()
                    .subscribe(fresh::add, fresh::failed, fresh::completed);
            fresh.assertReadEvery(oracle, Duration.ofSeconds(240), "a new reader",
                    () -> replicas.describe(topic).encode());
            reading.dispose();
            oracle.assertEveryAcknowledgedRecordReadOnce(fresh.snapshot());
        }
    }

    @Test
    @Order(2)
    void theThrottleBoundsHowFastTheNewBrokerCopiesAndACancelTakesAMoveBack() throws Exception {
        if (newBroker == 0) {
            newBroker = cluster.addBroker(Map.of("replication.throttled.rate", Integer.toString(THROTTLE)));
        }
        String topic = "throttled";
        int controller = replicas.agreedController();
        // The partitions live on a broker that is neither the controller (killed mid-move below) nor the new one.
        int source = cluster.ids().stream().filter(id -> id != controller && id != newBroker).findFirst()
                .orElseThrow();
        Rest rest = replicas.rest(source);
        replicas.createTopic(topic, 2, 1, Map.of());
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        for (int p = 0; p < 2; p++) {
            if (!replicaSet(topic, p).equals(List.of(source))) {
                move(rest, topic, p, source);
                int partition = p;
                await().alias(topic + "-" + p + " on broker " + source).atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> replicaSet(topic, partition).equals(List.of(source)));
            }
        }
        // Six MiB in each partition.
        try (MillraceClient client = client("filler")) {
            Producer producer = client.producer(ProducerConfig.defaults().withAcks(-1));
            String value = "v".repeat(1000);
            long sent = producer.send(Flux.range(0, 12 * 1024).map(i -> ProducerRecord.of(topic, (String) null,
                    value).withPartition(i % 2))).count().block(Duration.ofSeconds(120));
            assertThat(sent).isEqualTo(12 * 1024);
            producer.closeGracefully().block(Duration.ofSeconds(30));
        }
        // Only a broker holding the partition knows its size on disk; the others describe it as -1.
        long size = Replicas.partitionOf(replicas.describe(source, topic).orElseThrow(), 0).getLong("sizeBytes");
        assertThat(size).isGreaterThan(6_000_000L);

        // Partition 0 moves onto the throttled broker: it takes as long as the rate says, and the controller dies
        // (SIGKILL) while the new replica copies: the next controller finishes the move from ZooKeeper.
        long startedAt = System.nanoTime();
        move(rest, topic, 0, newBroker);
        await().alias(topic + "-0 being added to broker " + newBroker).atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(20)).until(() -> replicaSet(topic, 0).contains(newBroker));
        boolean controllerKilled = controller != newBroker;
        if (controllerKilled) {
            cluster.kill(controller);
            System.out.printf("%s: killed the controller, broker %d, mid-move%n", getClass().getSimpleName(),
                    controller);
        }
        await().alias(topic + "-0 on broker " + newBroker + " only").atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(50)).until(() -> replicaSet(topic, 0).equals(List.of(newBroker)));
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt);
        if (controllerKilled) {
            assertThat(replicas.agreedController()).as("a new controller finished the move").isNotEqualTo(controller);
            cluster.restart(controller);
            cluster.awaitLiveBrokers(cluster.ids().size());
        }
        // The bucket starts full: one second's worth comes at once, and one more fetch (at most a second's worth)
        // overdraws it; the rest comes at the rate.
        long leastMs = (size - 2L * THROTTLE) * 1000 / THROTTLE;
        System.out.printf("%s: %d bytes copied in %d ms at replication.throttled.rate=%d (at least %d ms)%n",
                getClass().getSimpleName(), size, tookMs, THROTTLE, leastMs);
        assertThat(tookMs).as("a %d-byte move at %d B/s", size, THROTTLE).isGreaterThanOrEqualTo(leastMs);

        // Partition 1 starts the same move and is cancelled while the throttle still holds its copy back.
        List<Integer> original = replicaSet(topic, 1);
        move(rest, topic, 1, newBroker);
        await().alias(topic + "-1 being added to broker " + newBroker).atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(20)).until(() -> replicaSet(topic, 1).contains(newBroker));
        Rest.Response cancelled = rest.delete("/api/reassignments/" + topic + "/1");
        assertThat(cancelled.status()).as(cancelled.toString()).isEqualTo(200);
        await().alias("the cancelled move is gone").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> new JsonObject(rest.get("/api/reassignments").body()).getJsonArray("reassignments")
                        .isEmpty());
        assertThat(replicaSet(topic, 1)).as("back where it was before the cancelled move").isEqualTo(original);
        await().alias("the replica being added is deleted again").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> !Files.exists(partitionDir(newBroker, new TopicPartition(topic, 1))));
        Rest.Response none = rest.delete("/api/reassignments/" + topic + "/1");
        assertThat(none.status()).isEqualTo(404);
        assertThat(none.body()).contains("NO_REASSIGNMENT_IN_PROGRESS");
    }

    private static void move(Rest rest, String topic, int partition, int broker) {
        Rest.Response r = rest.post("/api/reassignments", new JsonObject().put("partitions", new JsonArray()
                .add(new JsonObject().put("topic", topic).put("partition", partition)
                        .put("replicas", new JsonArray().add(broker)))));
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
    }

    private static List<Integer> replicaSet(String topic, int partition) {
        return Replicas.ints(Replicas.partitionOf(replicas.describe(topic), partition).getJsonArray("replicas"));
    }

    private static boolean movedAsPlanned(JsonObject description, Map<TopicPartition, List<Integer>> plan) {
        return plan.entrySet().stream().allMatch(e -> {
            JsonObject p = Replicas.partitionOf(description, e.getKey().partition());
            List<Integer> replicas = p.getJsonArray("replicas").stream().map(o -> ((Number) o).intValue()).toList();
            return replicas.equals(e.getValue()) && p.getInteger("leader") == e.getValue().get(0);
        });
    }

    private static Path partitionDir(int broker, TopicPartition tp) {
        return cluster.broker(broker).dataDir().resolve("logs").resolve(tp.toString());
    }

    private static MillraceClient client(String id) {
        return MillraceClient.create(ClientConfig.bootstrap(cluster.bootstrap()).withClientId(id)
                .withReconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)));
    }
}
