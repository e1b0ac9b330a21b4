package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.client.ClientConfig;
import io.millrace.client.ConsumerConfig;
import io.millrace.client.GroupOptions;
import io.millrace.client.MillraceClient;
import io.millrace.client.Seek;
import io.millrace.common.TopicPartition;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;

/**
 * Issue 12, "Done when" 1: a replication-factor-3 topic (min.insync.replicas 2) written by two idempotent acks=all
 * producers with keyed records loses the leader of its busiest partition mid-stream (SIGKILL, SIGTERM, or a bounce:
 * SIGKILL and an immediate restart). Every acknowledged record is then read exactly once and in per-partition order,
 * by a reader assigned from the earliest offset that ran through the failover and by a fresh one afterwards; a group
 * member that ran through it reads every acknowledged record at least once.
 */
class ReplicationFailoverIT {

    private static final int PARTITIONS = 6;
    private static final int PER_PRODUCER = 50_000;
    private static final int KEYS = 97;

    static ClusterHarness cluster;
    static Replicas replicas;

    enum Failure { SIGKILL, SIGTERM, BOUNCE }

    @BeforeAll
    static void start() {
        cluster = ClusterHarness.start(3, Map.of("group.initial.rebalance.delay.ms", "0",
                "group.min.session.timeout.ms", "1000"));
        replicas = new Replicas(cluster);
    }

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

    @ParameterizedTest
    @EnumSource(Failure.class)
    void everyAcknowledgedRecordIsReadExactlyOnceAfterTheBusiestLeaderFails(Failure failure) throws Exception {
        String topic = "failover-" + failure.name().toLowerCase();
        replicas.createTopic(topic, PARTITIONS, 3, Map.of());
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        assertThat(replicas.describe(topic).getJsonObject("config").getString("min.insync.replicas"))
                .isEqualTo("2");
        List<TopicPartition> all = IntStream.range(0, PARTITIONS).mapToObj(p -> new TopicPartition(topic, p))
                .toList();

        Oracle oracle = new Oracle();
        ReadLog assigned = new ReadLog();
        ReadLog grouped = new ReadLog();
        try (MillraceClient readers = client("readers"); MillraceClient first = client("producer-1");
             MillraceClient second = client("producer-2")) {
            Disposable assignedReading = readers.consumer(ConsumerConfig.defaults()).assign(all, Seek.earliest())
                    .receive().subscribe(assigned::add, assigned::failed, assigned::completed);
            Disposable groupReading = readers.consumer(ConsumerConfig.defaults())
                    .subscribe(List.of(topic), topic + "-group", GroupOptions.defaults()
                            .withSessionTimeout(Duration.ofSeconds(3), Duration.ofMillis(300)))
                    .receive().subscribe(grouped::add, grouped::failed, grouped::completed);

            long started = System.nanoTime();
            SendLoop one = new SendLoop(first, topic, "a", PER_PRODUCER, KEYS, oracle);
            SendLoop two = new SendLoop(second, topic, "b", PER_PRODUCER, KEYS, oracle);
            one.start();
            two.start();

            // mid-stream: a third of the records acknowledged
            await().alias("a third of the records acknowledged").atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> oracle.acknowledgedCount() >= 2 * PER_PRODUCER / 3 || one.failed() || two.failed());
            int busiest = oracle.acknowledgedByPartition().entrySet().stream()
                    .max(Comparator.comparingInt(e -> e.getValue().size())).orElseThrow().getKey().partition();
            int victim = replicas.leader(topic, busiest);
            int epoch = replicas.leaderEpoch(topic, busiest);
            int survivor = cluster.ids().stream().filter(id -> id != victim).findFirst().orElseThrow();
            int acknowledgedAtFailure = oracle.acknowledgedCount();
            switch (failure) {
                case SIGKILL -> cluster.kill(victim);
                case SIGTERM -> cluster.stop(victim);
                case BOUNCE -> {
                    cluster.kill(victim);
                    cluster.broker(victim).spawn();
                }
            }
            System.out.printf("%s: %s broker %d, leader of %s-%d (epoch %d), after %d acknowledged records%n",
                    getClass().getSimpleName(), failure, victim, topic, busiest, epoch, acknowledgedAtFailure);
            assertThat(acknowledgedAtFailure).as("the failure comes mid-stream").isLessThan(2 * PER_PRODUCER);

            long failed = System.nanoTime();
            // leadership moves to another in-sync replica, in a new epoch
            await().alias("a new leader of " + topic + "-" + busiest).atMost(cluster.failureDetectionDeadline()
                            .plusSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> replicas.describe(survivor, topic).map(d -> Replicas.partitionOf(d, busiest))
                            .filter(p -> p.getInteger("leaderEpoch") > epoch && p.getInteger("leader") != null
                                    && p.getInteger("leader") >= 0).isPresent());
            System.out.printf("%s: new leader of %s-%d seen %d ms after the failure%n", failure, topic, busiest,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - failed));

            one.join(Duration.ofMinutes(3));
            two.join(Duration.ofMinutes(3));
            assertThat(one.failures()).as("sends that failed (producer a)").isEmpty();
            assertThat(two.failures()).as("sends that failed (producer b)").isEmpty();
            assertThat(oracle.acknowledgedCount()).isEqualTo(2 * PER_PRODUCER);
            System.out.printf("%s: %d records acknowledged in %d ms%n", failure, oracle.acknowledgedCount(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            assertThat(oracle.acknowledgedCount()).as("records acknowledged after the failure")
                    .isGreaterThan(acknowledgedAtFailure);

            // the reader that ran through the failover: every acknowledged record exactly once, in order
            assigned.awaitEvery(oracle, Duration.ofSeconds(90), "the assigned reader reads every acknowledged record",
                    () -> replicas.describe(topic).encode());
            assertThat(assigned.error()).as("the assigned reader's stream failed").isNull();
            assertThat(assigned.isCompleted()).as("the assigned reader's stream ended").isFalse();
            Oracle.Verdict verdict = oracle.assertEveryAcknowledgedRecordReadOnce(assigned.snapshot());
            System.out.println("assigned reader through the failover: " + verdict);

            // the group member that ran through it: every acknowledged record at least once, none at a wrong offset
            grouped.awaitEvery(oracle, Duration.ofSeconds(90), "the group member reads every acknowledged record",
                    () -> replicas.describe(topic).encode());
            assertThat(grouped.error()).as("the group member's stream failed").isNull();
            assertThat(grouped.isCompleted()).as("the group member's stream ended").isFalse();
            assertThat(grouped.missing(oracle)).as("acknowledged records the group member never read").isEmpty();
            assertThat(grouped.conflicts(oracle)).isEmpty();
            System.out.printf("group member read %d records for %d acknowledged%n", grouped.size(),
                    oracle.acknowledgedCount());
            assignedReading.dispose();
            groupReading.dispose();

            // and afterwards, a new reader from the earliest offset
            ReadLog after = new ReadLog();
            Disposable reading = readers.consumer(ConsumerConfig.defaults()).assign(all, Seek.earliest()).receive()
                    .subscribe(after::add, after::failed, after::completed);
            after.awaitEvery(oracle, Duration.ofSeconds(90), "a new reader reads every acknowledged record",
                    () -> replicas.describe(topic).encode());
            reading.dispose();
            assertThat(after.error()).isNull();
            oracle.assertEveryAcknowledgedRecordReadOnce(after.snapshot());
        }
    }

    private MillraceClient client(String id) {
        return MillraceClient.create(ClientConfig.bootstrap(cluster.bootstrap()).withClientId(id)
                .withReconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)));
    }
}
