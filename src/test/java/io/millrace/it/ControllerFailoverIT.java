package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.client.ClientConfig;
import io.millrace.client.ConsumerConfig;
import io.millrace.client.GroupOptions;
import io.millrace.client.MillraceClient;
import io.millrace.client.Producer;
import io.millrace.client.ProducerConfig;
import io.millrace.client.ProducerRecord;
import io.millrace.client.Seek;
import io.millrace.common.TopicPartition;
import io.millrace.group.OffsetsTopic;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Issue 12, "Done when" 5 and 6: the controller's broker dies and another takes over its duties (a later broker
 * failure is still handled); a consumer group's coordinator dies and its members, bootstrapped from different
 * brokers, rejoin on the new coordinator without losing a committed offset. And leadership that moves to a live
 * broker (a preferred-leader election) is followed by a reader subscribed at the old leader.
 */
class ControllerFailoverIT {

    private static final String OFFSETS_TOPIC = "__consumer_offsets";

    static ClusterHarness cluster;
    static Replicas replicas;

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

    @Test
    void aNewControllerTakesOverAndHandlesALaterBrokerFailure() {
        String topic = "controlled";
        int partitions = 6;
        replicas.createTopic(topic, partitions, 3, Map.of());
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        List<TopicPartition> all = IntStream.range(0, partitions).mapToObj(p -> new TopicPartition(topic, p)).toList();
        Oracle oracle = new Oracle();
        try (MillraceClient client = client(cluster.bootstrap())) {
            Producer producer = client.producer(ProducerConfig.defaults().withAcks(-1));
            send(producer, topic, "before", 600, oracle);

            await().atMost(Duration.ofSeconds(30)).until(() -> replicas.agreedController() > 0);
            int first = replicas.agreedController();
            JsonObject before = replicas.describe(topic);
            List<Integer> ledByFirst = partitionsLedBy(before, first);
            cluster.kill(first);
            await().alias("the survivors agree on a new controller").atMost(cluster.failureDetectionDeadline()
                    .plusSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> replicas.agreedController() > 0 && replicas.agreedController() != first);
            int second = replicas.agreedController();
            System.out.printf("controller %d killed; %d took over (%d led %s)%n", first, second, first, ledByFirst);
            // the dead controller's own partitions moved: the new controller did it, or the old one before dying
            awaitNewLeaders(before, ledByFirst, first, second);

            cluster.restart(first);
            replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
            assertThat(replicas.agreedController()).as("the controller stays where it is").isEqualTo(second);

            // a later failure, of a leader that is not the controller, is handled by the new controller
            JsonObject now = replicas.describe(topic);
            int victim = now.getJsonArray("partitions").stream().map(JsonObject.class::cast)
                    .map(p -> p.getInteger("leader")).filter(l -> l != second).findFirst()
                    .orElseThrow(() -> new AssertionError("controller " + second + " leads everything: " + now));
            List<Integer> ledByVictim = partitionsLedBy(now, victim);
            cluster.kill(victim);
            awaitNewLeaders(now, ledByVictim, victim, second);
            assertThat(replicas.agreedController()).isEqualTo(second);
            System.out.printf("leader %d killed; %s moved, controller still %d%n", victim, ledByVictim, second);

            // and the cluster serves: acks=all to every partition, read back with what came before
            send(producer, topic, "after", 600, oracle);
            producer.close();
            ReadLog read = new ReadLog();
            Disposable reading = client.consumer(ConsumerConfig.defaults()).assign(all, Seek.earliest()).receive()
                    .subscribe(read::add, read::failed, read::completed);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> read.holdsEvery(oracle) || read.error() != null);
            reading.dispose();
            assertThat(read.error()).isNull();
            oracle.assertEveryAcknowledgedRecordReadOnce(read.snapshot());
        }
    }

    @Test
    void groupMembersRejoinOnTheNewCoordinatorWithoutLosingACommittedOffset() {
        String topic = "orders";
        String group = "billing";
        int partitions = 4;
        int perPhase = 400;
        replicas.createTopic(topic, partitions, 3, Map.of());
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        Oracle oracle = new Oracle();
        AtomicBoolean afterKill = new AtomicBoolean();
        ConcurrentLinkedQueue<Oracle.Entry> readAfterKill = new ConcurrentLinkedQueue<>();
        ReadLog read = new ReadLog();
        // auto-commit, often: a commit refused while the coordinator moves is simply made again by the next one
        GroupOptions options = GroupOptions.defaults().withAutoCommit(Duration.ofMillis(200))
                .withSessionTimeout(Duration.ofSeconds(3), Duration.ofMillis(300));
        // two members, each bootstrapped from a different broker
        try (MillraceClient producing = client(cluster.bootstrap());
             MillraceClient one = client("127.0.0.1:" + cluster.broker(1).tcpPort());
             MillraceClient two = client("127.0.0.1:" + cluster.broker(2).tcpPort())) {
            Producer producer = producing.producer(ProducerConfig.defaults().withAcks(-1));
            send(producer, topic, "first", perPhase, oracle);
            List<Disposable> members = new ArrayList<>();
            for (MillraceClient member : List.of(one, two)) {
                members.add(member.consumer(ConsumerConfig.defaults()).subscribe(List.of(topic), group, options)
                        .receive()
                        .subscribe(r -> {
                            read.add(r);
                            if (afterKill.get()) {
                                readAfterKill.add(new Oracle.Entry(topic, r.partition(), r.offset(), r.keyAsString(),
                                        r.valueAsString()));
                            }
                        }, read::failed, read::completed));
            }
            Map<Integer, Long> committedBefore = awaitCommitted(group, topic, partitions, oracle);
            JsonObject described = describeGroup(group).orElseThrow();
            assertThat(described.getJsonArray("members")).as("members before the failover: " + described).hasSize(2);

            int offsetsPartitions = replicas.describe(OFFSETS_TOPIC).getJsonArray("partitions").size();
            int offsetsPartition = OffsetsTopic.partitionFor(group, offsetsPartitions);
            int coordinator = replicas.leader(OFFSETS_TOPIC, offsetsPartition);
            System.out.printf("group %s: committed %s; coordinator %d (leader of %s-%d)%n", group, committedBefore,
                    coordinator, OFFSETS_TOPIC, offsetsPartition);
            afterKill.set(true);
            cluster.kill(coordinator);
            await().alias("a new leader of " + OFFSETS_TOPIC + "-" + offsetsPartition)
                    .atMost(cluster.failureDetectionDeadline().plusSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> replicas.leader(OFFSETS_TOPIC, offsetsPartition) > 0
                            && replicas.leader(OFFSETS_TOPIC, offsetsPartition) != coordinator);

            send(producer, topic, "second", perPhase, oracle);
            producer.close();
            Map<Integer, Long> committedAfter = awaitCommitted(group, topic, partitions, oracle);
            System.out.printf("after the failover: committed %s%n", committedAfter);
            JsonObject after = describeGroup(group).orElseThrow();
            assertThat(after.getJsonArray("members")).as("members after the failover: " + after).hasSize(2);
            committedBefore.forEach((p, offset) -> assertThat(committedAfter.get(p)).isGreaterThanOrEqualTo(offset));

            // consumption resumed from the committed offsets: nothing committed before the kill was read again
            List<Oracle.Entry> reread = readAfterKill.stream()
                    .filter(e -> e.offset() < committedBefore.get(e.partition().partition())).toList();
            assertThat(reread).as("records read again after the failover although committed before it").isEmpty();
            assertThat(read.missing(oracle)).isEmpty();
            assertThat(read.conflicts(oracle)).isEmpty();
            assertThat(read.error()).isNull();
            assertThat(read.isCompleted()).isFalse();
            members.forEach(Disposable::dispose);
        }
    }

    /**
     * Leadership moves back to a returning broker (a preferred-leader election) while a reader works through a
     * backlog: the reader follows it, also for records written after the move, and reads every acknowledged record
     * exactly once.
     */
    @Test
    void aReaderFollowsAPreferredLeaderElectionInTheMiddleOfABacklog() throws Exception {
        String topic = "moving";
        int partitions = 3;
        replicas.createTopic(topic, partitions, 3, Map.of());
        replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
        List<TopicPartition> all = IntStream.range(0, partitions).mapToObj(p -> new TopicPartition(topic, p)).toList();
        Oracle oracle = new Oracle();
        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap(cluster.bootstrap())
                .withClientId("moving").withReconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)))) {
            SendLoop backlog = new SendLoop(client, topic, "m", 20_000, 31, oracle);
            backlog.start();
            backlog.join(Duration.ofMinutes(2));
            assertThat(backlog.failures()).isEmpty();

            // partition 0's preferred leader dies and comes back: it leads nothing until the election
            int preferred = replicas.leader(topic, 0);
            cluster.kill(preferred);
            await().atMost(cluster.failureDetectionDeadline().plusSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> replicas.leader(topic, 0) > 0 && replicas.leader(topic, 0) != preferred);
            cluster.restart(preferred);
            replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
            JsonObject before = replicas.describe(topic);

            ReadLog read = new ReadLog();
            Disposable reading = client.consumer(ConsumerConfig.defaults()).assign(all, Seek.earliest()).receive()
                    .subscribe(read::add, read::failed, read::completed);
            await().atMost(Duration.ofSeconds(30)).until(() -> read.size() > 1000);
            // asked of a broker that is not the controller, which takes it to the controller over the event bus
            int controller = replicas.agreedController();
            int asked = cluster.ids().stream().filter(id -> id != controller).findFirst().orElseThrow();
            Rest.Response elected = replicas.rest(asked).post("/api/cluster/preferred-leader-election", "{}");
            System.out.printf("preferred-leader election at %d records read, asked of broker %d (controller %d): %s%n",
                    read.size(), asked, controller, elected);
            assertThat(elected.status()).as(elected.body()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> replicas.leader(topic, 0) == preferred);

            // records written after the move are on the new leader only: the reader must follow it there
            SendLoop more = new SendLoop(client, topic, "n", 3_000, 31, oracle);
            more.start();
            more.join(Duration.ofMinutes(1));
            assertThat(more.failures()).isEmpty();

            read.awaitEvery(oracle, Duration.ofSeconds(60), "the reader reads every acknowledged record",
                    () -> "before the election: " + before.encode() + "\nnow: " + replicas.describe(topic).encode());
            reading.dispose();
            assertThat(read.error()).isNull();
            oracle.assertEveryAcknowledgedRecordReadOnce(read.snapshot());
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /**
     * Waits until the group has committed, for each partition, the offset after its last acknowledged record, and
     * returns the committed offsets (as any running broker that answers describes the group).
     */
    private Map<Integer, Long> awaitCommitted(String group, String topic, int partitions, Oracle oracle) {
        Map<Integer, Long> expected = new HashMap<>();
        oracle.acknowledgedByPartition().forEach((tp, list) -> expected.put(tp.partition(),
                list.get(list.size() - 1).offset() + 1));
        Map<Integer, Long> committed = new HashMap<>();
        await().alias("group " + group + " commits " + expected).atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(200)).until(() -> {
                    Optional<JsonObject> d = describeGroup(group);
                    if (d.isEmpty()) {
                        return false;
                    }
                    committed.clear();
                    d.get().getJsonArray("partitions").stream().map(JsonObject.class::cast)
                            .filter(p -> topic.equals(p.getString("topic")) && p.getValue("committed") != null)
                            .forEach(p -> committed.put(p.getInteger("partition"), p.getLong("committed")));
                    return committed.equals(expected);
                });
        assertThat(committed).hasSize(partitions);
        return new HashMap<>(committed);
    }

    /** {@code GET /api/groups/<g>} from the first running broker that answers 200 (the coordinator does). */
    private Optional<JsonObject> describeGroup(String group) {
        for (int id : cluster.runningIds()) {
            try {
                Rest.Response r = replicas.rest(id).get("/api/groups/" + group);
                if (r.status() == 200) {
                    return Optional.of(r.json());
                }
            } catch (java.io.UncheckedIOException e) {
                // try the next
            }
        }
        return Optional.empty();
    }

    private static List<Integer> partitionsLedBy(JsonObject description, int broker) {
        return description.getJsonArray("partitions").stream().map(JsonObject.class::cast)
                .filter(p -> p.getInteger("leader") != null && p.getInteger("leader") == broker)
                .map(p -> p.getInteger("partition")).toList();
    }

    /** Waits until each of {@code moved} is led by another broker than {@code dead}, in a later epoch. */
    private void awaitNewLeaders(JsonObject before, List<Integer> moved, int dead, int askBroker) {
        String topic = before.getString("name");
        await().alias("partitions " + moved + " of " + topic + " led by others than " + dead)
                .atMost(cluster.failureDetectionDeadline().plusSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> replicas.describe(askBroker, topic).map(d -> moved.stream().allMatch(p -> {
                    JsonObject now = Replicas.partitionOf(d, p);
                    Integer leader = now.getInteger("leader");
                    return leader != null && leader >= 0 && leader != dead
                            && now.getInteger("leaderEpoch") > Replicas.partitionOf(before, p).getInteger("leaderEpoch");
                })).orElse(false));
    }

    /** Sends {@code n} keyed records acks=all and waits for every acknowledgement, logging each in the oracle. */
    private static void send(Producer producer, String topic, String prefix, int n, Oracle oracle) {
        Flux.range(0, n).flatMapSequential(i -> {
            String key = "k-" + (i % 23);
            String value = prefix + "-" + i;
            return producer.send(ProducerRecord.of(topic, key, value))
                    .doOnNext(m -> oracle.acknowledged(topic, m.partition(), m.offset(), key, value));
        }, 256).blockLast(Duration.ofSeconds(120));
    }

    private static MillraceClient client(String bootstrap) {
        return MillraceClient.create(ClientConfig.bootstrap(bootstrap).withClientId("control")
                .withReconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)));
    }
}
