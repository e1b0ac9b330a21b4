package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.client.ClientConfig;
import io.millrace.client.ConsumerConfig;
import io.millrace.client.MillraceClient;
import io.millrace.client.Producer;
import io.millrace.client.ProducerConfig;
import io.millrace.client.ProducerRecord;
import io.millrace.client.Seek;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/**
 * Issue 12, "Done when" 2-4, on one cluster whose followers stay in sync through a pause of up to 30 s
 * ({@code replica.lag.time.max.ms}), so that a frozen broker is still in the in-sync set:
 * <ul>
 *   <li>with 2 of 3 brokers gone, acks=all fails with NOT_ENOUGH_REPLICAS within the request timeout and acks=1
 *       works; with them back the in-sync set is full again and acks=all works;</li>
 *   <li>a follower killed during writes and restarted catches up: all replicas end byte-identical;</li>
 *   <li>a double failure with unreplicated writes in between (KIP-101): the returning old leader truncates its
 *       divergent tail; replicas end byte-identical and no acknowledged record is lost.</li>
 * </ul>
 * Byte-identity is judged on disk after stopping every broker cleanly (SIGTERM): a SHA-256 of each replica's
 * {@code .log} segments, concatenated in offset order.
 */
class ReplicaConsistencyIT {

    /** A frozen broker's ZooKeeper session must outlive the freeze; a killed one is found by the port probe. */
    private static final int SESSION_TIMEOUT_MS = 10_000;

    static ClusterHarness cluster;
    static Replicas replicas;

    @BeforeAll
    static void start() {
        cluster = ClusterHarness.start(3, Map.of("zookeeper.session.timeout.ms", Integer.toString(SESSION_TIMEOUT_MS),
                "replica.lag.time.max.ms", "30000"));
        replicas = new Replicas(cluster);
    }

    /** Before rather than after each test: the last test's clean stop of every broker needs no restart. */
    @BeforeEach
    void heal() {
        replicas.heal();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void withTwoOfThreeBrokersGoneAcksAllFailsAndAcksOneWorksUntilTheyReturn() {
        String topic = "quorum";
        TopicPartition tp = new TopicPartition(topic, 0);
        replicas.createTopic(topic, 1, 3, Map.of());
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        int leader = replicas.leader(topic, 0);
        List<Integer> followers = cluster.ids().stream().filter(id -> id != leader).toList();
        Rest onLeader = replicas.rest(leader);
        Oracle oracle = new Oracle();

        acknowledge(oracle, produce(onLeader, tp, "all", values("before", 20)));

        followers.forEach(cluster::kill);
        // sent at once: the leader may still count the dead followers in sync; it must not wait for them forever
        long sent = System.nanoTime();
        Produced inFlight = produce(onLeader, tp, "all", values("in-flight", 1));
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
        System.out.printf("acks=all right after killing brokers %s: %d in %d ms: %s%n", followers,
                inFlight.status(), tookMs, inFlight.body());
        assertThat(inFlight.status()).as(inFlight.body()).isEqualTo(503);
        assertThat(inFlight.errorCode()).isEqualTo("NOT_ENOUGH_REPLICAS");
        assertThat(tookMs).as("answered within the request timeout").isLessThan(30_000);

        await().alias("the in-sync set shrinks to the leader").atMost(cluster.failureDetectionDeadline()
                        .plusSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> replicas.describe(leader, topic).map(d -> Replicas.ints(Replicas.partitionOf(d, 0)
                        .getJsonArray("isr"))).filter(List.of(leader)::equals).isPresent());
        assertThat(replicas.leader(topic, 0)).isEqualTo(leader);

        sent = System.nanoTime();
        Produced refused = produce(onLeader, tp, "all", values("refused", 5));
        tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
        assertThat(refused.status()).as(refused.body()).isEqualTo(503);
        assertThat(refused.errorCode()).isEqualTo("NOT_ENOUGH_REPLICAS");
        assertThat(tookMs).as("refused up front").isLessThan(5_000);

        // the SDK gives up after its delivery timeout with the broker's reason
        try (MillraceClient client = client(cluster.bootstrap())) {
            Producer producer = client.producer(ProducerConfig.defaults().withAcks(-1)
                    .withDeliveryTimeout(Duration.ofSeconds(3)).withRetryBackoff(Duration.ofMillis(100)));
            AtomicReference<Throwable> error = new AtomicReference<>();
            sent = System.nanoTime();
            try {
                producer.send(ProducerRecord.of(topic, null, "sdk-refused").withPartition(0))
                        .block(Duration.ofSeconds(30));
            } catch (RuntimeException e) {
                error.set(e);
            }
            tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
            assertThat(error.get()).as("an acks=all send with one in-sync replica").isNotNull();
            assertThat(error.get()).isInstanceOf(MillraceException.class);
            assertThat(((MillraceException) error.get()).errorCode()).as(error.get().toString())
                    .isEqualTo(ErrorCode.NOT_ENOUGH_REPLICAS);
            assertThat(tookMs).isLessThan(20_000);
            producer.close();
        }

        // acks=1 keeps working on the survivor
        Produced one = produce(onLeader, tp, "1", values("acks-one", 20));
        assertThat(one.status()).as(one.body()).isEqualTo(200);
        acknowledge(oracle, one);

        followers.forEach(id -> cluster.broker(id).spawn());
        cluster.awaitAllHealthy();
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        assertThat(replicas.isr(topic, 0)).containsExactlyInAnyOrder(1, 2, 3);
        int leaderNow = replicas.leader(topic, 0);
        Produced again = produce(replicas.rest(leaderNow), tp, "all", values("after", 20));
        assertThat(again.status()).as(again.body()).isEqualTo(200);
        acknowledge(oracle, again);

        try (MillraceClient client = client(cluster.bootstrap())) {
            oracle.assertEveryAcknowledgedRecordReadOnce(readAll(client, tp, oracle));
        }
    }

    @Test
    void aFollowerKilledDuringWritesCatchesUpAndEveryReplicaEndsByteIdentical() throws Exception {
        String topic = "catch-up";
        TopicPartition tp = new TopicPartition(topic, 0);
        replicas.createTopic(topic, 1, 3, Map.of("segment.bytes", "65536"));
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        int leader = replicas.leader(topic, 0);
        int follower = cluster.ids().stream().filter(id -> id != leader).findFirst().orElseThrow();
        Oracle oracle = new Oracle();
        int total = 20_000;
        try (MillraceClient client = client(cluster.bootstrap())) {
            SendLoop writes = new SendLoop(client, topic, "w", total, 13, oracle);
            writes.start();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                    .until(() -> oracle.acknowledgedCount() >= total / 4 || writes.failed());
            cluster.kill(follower);
            int atKill = oracle.acknowledgedCount();
            await().alias("the dead follower leaves the in-sync set").atMost(cluster.failureDetectionDeadline()
                            .plusSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !replicas.isr(topic, 0).contains(follower));
            // writes go on without it (2 in sync = min.insync.replicas)
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                    .until(() -> oracle.acknowledgedCount() >= atKill + total / 4 || writes.failed());
            int atRestart = oracle.acknowledgedCount();
            cluster.restart(follower);
            System.out.printf("follower %d killed after %d records, restarted after %d%n", follower, atKill,
                    atRestart);
            assertThat(atRestart).as("restarted during the writes").isLessThan(total);
            writes.join(Duration.ofMinutes(2));
            assertThat(writes.failures()).isEmpty();
            assertThat(oracle.acknowledgedCount()).isEqualTo(total);
            replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
            oracle.assertEveryAcknowledgedRecordReadOnce(readAll(client, tp, oracle));
        }
        assertReplicasByteIdenticalAfterCleanStop(tp, List.of(1, 2, 3), leader);
    }

    @Test
    void aDeposedLeaderTruncatesItsUnreplicatedTailAfterADoubleFailure() throws Exception {
        // RF 2 and min.insync.replicas 1: the shape in which a leader's acks=1 writes are on no other replica
        String topic = "diverge";
        replicas.createTopic(topic, 3, 2, Map.of("min.insync.replicas", "1"));
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        // a partition on the two brokers that are not the controller, so that neither failure moves the controller
        await().atMost(Duration.ofSeconds(30)).until(() -> replicas.agreedController() > 0);
        int controller = replicas.agreedController();
        JsonObject description = replicas.describe(topic);
        JsonObject chosen = description.getJsonArray("partitions").stream().map(JsonObject.class::cast)
                .filter(p -> !Replicas.ints(p.getJsonArray("replicas")).contains(controller)).findFirst()
                .orElseThrow(() -> new AssertionError("every partition has a replica on controller " + controller
                        + ": " + description));
        TopicPartition tp = new TopicPartition(topic, chosen.getInteger("partition"));
        int a = chosen.getInteger("leader");
        int b = Replicas.ints(chosen.getJsonArray("replicas")).stream().filter(id -> id != a).findFirst()
                .orElseThrow();
        int epoch = chosen.getInteger("leaderEpoch");
        Oracle oracle = new Oracle();

        // committed on both replicas before the experiment
        acknowledge(oracle, produce(replicas.rest(a), tp, "all", values("committed", 100)));
        assertThat(Replicas.partitionOf(replicas.describe(a, topic).orElseThrow(), tp.partition())
                .getLong("highWatermark")).isEqualTo(100);

        // B stops fetching but stays in sync; A takes acks=1 writes nobody copies
        replicas.freeze(b);
        List<Produced> unreplicated = new ArrayList<>();
        try {
            // The first write answers a fetch B may have had waiting at A; B finds it in its socket when thawed
            // and keeps it, legitimately. B has no fetch in flight after that, so the later writes reach nobody.
            unreplicated.add(produce(replicas.rest(a), tp, "1", values("a-only-first", 1)));
            for (int i = 0; i < 5; i++) {
                unreplicated.add(produce(replicas.rest(a), tp, "1", values("a-only-" + i, 10)));
            }
            unreplicated.forEach(r -> assertThat(r.status()).as(r.body()).isEqualTo(200));
            cluster.kill(a);
            // the controller makes B leader in a new epoch while B is still frozen (B is alive: its session and
            // event-bus port are)
            int survivor = controller;
            await().alias("B elected in a new epoch").atMost(Duration.ofMillis(SESSION_TIMEOUT_MS - 3000))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> replicas.describe(survivor, topic).map(d -> Replicas.partitionOf(d, tp.partition()))
                            .filter(p -> p.getInteger("leader") != null && p.getInteger("leader") == b
                                    && p.getInteger("leaderEpoch") > epoch).isPresent());
        } finally {
            replicas.thaw(b);
        }

        // B takes acks=1 writes at the offsets A used
        List<Produced> byB = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            byB.add(produceWhenLeader(replicas.rest(b), tp, "1", values("b-" + i, 10)));
        }
        long bFirst = byB.get(0).entries().get(0).offset();
        List<Oracle.Entry> aWrites = unreplicated.stream().flatMap(r -> r.entries().stream()).toList();
        long aLast = aWrites.get(aWrites.size() - 1).offset();
        System.out.printf("A=%d wrote offsets 100..%d alone; B=%d leads from offset %d%n", a, aLast, b, bFirst);
        assertThat(bFirst).as("B's epoch starts below A's log end: the logs diverge").isLessThanOrEqualTo(aLast);
        byB.forEach(r -> acknowledge(oracle, r));
        // what B had copied of A's writes before the failover stays; the rest is A's divergent tail
        aWrites.stream().filter(e -> e.offset() < bFirst).forEach(oracle::acknowledged);
        List<String> divergent = aWrites.stream().filter(e -> e.offset() >= bFirst).map(Oracle.Entry::value).toList();

        cluster.restart(a);
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        int leaderNow = replicas.leader(topic, tp.partition());
        Produced afterwards = produce(replicas.rest(leaderNow), tp, "all", values("after", 10));
        assertThat(afterwards.status()).as(afterwards.body()).isEqualTo(200);
        acknowledge(oracle, afterwards);

        try (MillraceClient client = client(cluster.bootstrap())) {
            Map<TopicPartition, List<Oracle.Entry>> read = readAll(client, tp, oracle);
            oracle.assertEveryAcknowledgedRecordReadOnce(read);
            assertThat(read.get(tp).stream().map(Oracle.Entry::value)).as("A's divergent tail")
                    .doesNotContainAnyElementsOf(divergent);
        }
        assertReplicasByteIdenticalAfterCleanStop(tp, List.of(a, b), leaderNow);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** SIGTERM every broker, followers first, then compares the replicas' log segments on disk. */
    private void assertReplicasByteIdenticalAfterCleanStop(TopicPartition tp, List<Integer> replicaIds, int leader) {
        cluster.ids().stream().filter(id -> id != leader).forEach(cluster::stop);
        cluster.stop(leader);
        Map<Integer, Replicas.LogDigest> digests = replicas.logDigests(tp, replicaIds);
        System.out.println(tp + " on disk: " + digests);
        Replicas.LogDigest first = digests.get(replicaIds.get(0));
        assertThat(first.bytes()).isPositive();
        assertThat(digests.values()).as("every replica's log of " + tp).allSatisfy(d -> assertThat(d).isEqualTo(first));
    }

    private static MillraceClient client(String bootstrap) {
        return MillraceClient.create(ClientConfig.bootstrap(bootstrap).withClientId("consistency")
                .withReconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)));
    }

    private static List<String> values(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> prefix + "-" + i).toList();
    }

    /** A REST produce: what was sent (each record's key and value are the same string) and the answer. */
    private record Produced(List<String> values, Rest.Response response) {

        int status() {
            return response.status();
        }

        String body() {
            return response.body();
        }

        String errorCode() {
            return response.errorCode();
        }

        /** The records as acknowledged, at the offsets in the answer (in the order sent). */
        List<Oracle.Entry> entries() {
            if (response.status() != 200) {
                throw new AssertionError("not acknowledged: " + response);
            }
            JsonArray offsets = response.json().getJsonArray("offsets");
            assertThat(offsets).hasSize(values.size());
            List<Oracle.Entry> out = new ArrayList<>();
            for (int i = 0; i < values.size(); i++) {
                JsonObject o = offsets.getJsonObject(i);
                out.add(new Oracle.Entry(o.getString("topic"), o.getInteger("partition"), o.getLong("offset"),
                        values.get(i), values.get(i)));
            }
            return out;
        }
    }

    /** REST produce of {@code values} (key = value) to one partition, answered by broker {@code rest}. */
    private static Produced produce(Rest rest, TopicPartition tp, String acks, List<String> values) {
        JsonArray records = new JsonArray();
        values.forEach(v -> records.add(new JsonObject().put("key", v).put("value", v).put("partition",
                tp.partition())));
        return new Produced(values, rest.post("/api/topics/" + tp.topic() + "/records",
                new JsonObject().put("acks", acks).put("records", records)));
    }

    /** As {@link #produce}, retrying while the broker answers NOT_LEADER (it has not taken over yet). */
    private static Produced produceWhenLeader(Rest rest, TopicPartition tp, String acks, List<String> values) {
        AtomicReference<Produced> last = new AtomicReference<>();
        await().alias("a produce accepted by the new leader").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(50)).until(() -> {
                    Produced r = produce(rest, tp, acks, values);
                    last.set(r);
                    if (r.status() == 503 && "NOT_LEADER".equals(r.errorCode())) {
                        return false;
                    }
                    assertThat(r.status()).as(r.body()).isEqualTo(200);
                    return true;
                });
        return last.get();
    }

    private static void acknowledge(Oracle oracle, Produced produced) {
        produced.entries().forEach(oracle::acknowledged);
    }

    /** Reads {@code tp} from the earliest offset until every acknowledged record is there (or the stream fails). */
    private static Map<TopicPartition, List<Oracle.Entry>> readAll(MillraceClient client, TopicPartition tp,
                                                                   Oracle oracle) {
        ReadLog log = new ReadLog();
        Disposable reading = client.consumer(ConsumerConfig.defaults()).assign(tp, Seek.earliest()).receive()
                .subscribe(log::add, log::failed, log::completed);
        try {
            await().alias("a reader from the earliest offset of " + tp + " reads every acknowledged record")
                    .atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> log.holdsEvery(oracle) || log.error() != null);
        } finally {
            reading.dispose();
        }
        assertThat(log.error()).isNull();
        return log.snapshot();
    }
}
